"""Command families, one module each.  Importing this package registers every command
in the command table (respd.command)."""

from respd.commands import connection  # noqa: F401
from respd.commands import client, strings  # noqa: F401,E402
from respd.commands import keyspace  # noqa: F401,E402
from respd.commands import transactions  # noqa: F401,E402
from respd.commands import pubsub  # noqa: F401,E402
from respd.commands import persistence  # noqa: F401,E402
from respd.commands import lists, zsets  # noqa: F401,E402
from respd.commands import hashes, sets  # noqa: F401,E402
from respd.commands import scripting  # noqa: F401,E402
from respd.commands import streams  # noqa: F401,E402
from respd.commands import respd_streams  # noqa: F401,E402
from respd.commands import bitmaps  # noqa: F401,E402
from respd.commands import hyperloglog  # noqa: F401,E402
from respd.commands import geo  # noqa: F401,E402
from respd.commands import dump  # noqa: F401,E402
from respd.commands import sort  # noqa: F401,E402
from respd.commands import lolwut  # noqa: F401,E402
from respd.commands import server  # noqa: F401,E402
from respd.commands import acl  # noqa: F401,E402
from respd.commands import memory  # noqa: F401,E402
from respd.commands import modules  # noqa: F401,E402
from respd.commands import replication  # noqa: F401,E402
from respd.commands import cluster  # noqa: F401,E402
from respd.commands import migrate  # noqa: F401,E402
