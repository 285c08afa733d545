"""Every error line respd sends, exactly as Redis 7.0.15 sends it.

An error reply is raised as a ``ReplyError`` anywhere below dispatch and turned into
``-<line>\\r\\n`` at the edge.  The line always starts with its code (ERR, WRONGTYPE,
NOGROUP, ...): nothing adds an implicit ``ERR`` prefix, so codes that clients branch on
stay exact.  Fixed lines are module constants; lines with parts are built by the
functions below.  Command modules import from here instead of spelling error text.
The lines are grouped by family, one ``# ---`` heading each: add a new one under its
family's heading.
"""

from __future__ import annotations


class ReplyError(Exception):
    """An error reply; ``line`` is what follows the ``-`` on the wire."""

    __slots__ = ("line",)

    def __init__(self, line: str | bytes) -> None:
        self.line = line.encode() if isinstance(line, str) else line
        super().__init__(self.line)

    @property
    def code(self) -> bytes:
        return self.line.split(b" ", 1)[0]


class ConfigError(ValueError):
    """A bad config value: the message is what CONFIG SET reports after 'argument(s) must
    be' (and what the config file loader prints)."""


class ProtocolError(Exception):
    """Malformed request bytes: Redis replies with the message and closes the connection."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def _clean(text: bytes) -> bytes:
    # Redis maps CR and LF to spaces in formatted errors so the reply stays one line.
    return text.replace(b"\r", b" ").replace(b"\n", b" ")


# --- Generic argument errors (any family).
SYNTAX = ReplyError("ERR syntax error")
NOT_INTEGER = ReplyError("ERR value is not an integer or out of range")
NOT_FLOAT = ReplyError("ERR value is not a valid float")
OVERFLOW = ReplyError("ERR increment or decrement would overflow")
NAN_OR_INF = ReplyError("ERR increment would produce NaN or Infinity")
WRONGTYPE = ReplyError("WRONGTYPE Operation against a key holding the wrong kind of value")
NO_SUCH_KEY = ReplyError("ERR no such key")
OUT_OF_RANGE = ReplyError("ERR index out of range")
DB_INDEX_RANGE = ReplyError("ERR DB index is out of range")
SAME_OBJECT = ReplyError("ERR source and destination objects are the same")
INVALID_CURSOR = ReplyError("ERR invalid cursor")
STRING_TOO_LONG = ReplyError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
OFFSET_RANGE = ReplyError("ERR offset is out of range")
TIMEOUT_NOT_FLOAT = ReplyError("ERR timeout is not a float or out of range")
TIMEOUT_NOT_INTEGER = ReplyError("ERR timeout is not an integer or out of range")
TIMEOUT_NEGATIVE = ReplyError("ERR timeout is negative")
COUNT_POSITIVE = ReplyError("ERR value is out of range, must be positive")
VALUE_OUT_OF_RANGE = ReplyError("ERR value is out of range")
INT32_RANGE = ReplyError(
    "ERR value is out of range, value must between -2147483648 and 2147483647"
)


def out_of_range_between(lo: int, hi: int) -> ReplyError:
    return ReplyError(f"ERR value is out of range, value must between {lo} and {hi}")


def unsupported_option(option: bytes) -> ReplyError:
    # Redis formats the option with %s: a NUL byte ends it.
    return ReplyError(b"ERR Unsupported option " + _clean(option.split(b"\0", 1)[0]))


def unknown_argument(arg: bytes) -> ReplyError:
    return ReplyError(b"ERR Unknown argument " + _clean(arg))


def unknown_option_given(arg: bytes) -> ReplyError:
    return ReplyError(b"ERR Unknown option given: " + _clean(arg))


# --- Dispatch: lookup, arity and the checks every command passes; protocol errors.
NOT_ALLOWED_IN_MULTI = ReplyError("ERR Command not allowed inside a transaction")
INTERNAL = ReplyError("ERR internal error while running the command (see server log)")
REPLICA_KEYSPACE = ReplyError("ERR Replica can't interact with the keyspace")


def wrong_arity(fullname: str) -> ReplyError:
    return ReplyError(f"ERR wrong number of arguments for '{fullname}' command")


def unknown_command(argv: list[bytes]) -> ReplyError:
    """Mirrors processCommand: quoted arguments are appended while the list is under 128
    bytes, each cut to what is left of the 128."""
    args = b""
    for arg in argv[1:]:
        if len(args) >= 128:
            break
        args += b"'" + arg[: 128 - len(args)] + b"' "
    return ReplyError(
        b"ERR unknown command '" + _clean(argv[0][:128])
        + b"', with args beginning with: " + _clean(args)
    )


def unknown_subcommand(argv: list[bytes]) -> ReplyError:
    return ReplyError(
        b"ERR unknown subcommand '" + _clean(argv[1][:128]) + b"'. Try "
        + _clean(argv[0].upper()) + b" HELP."
    )


def unknown_subcommand_or_arity(sub: bytes, container: str) -> ReplyError:
    """The line Redis sends for a HELP-style container given an unknown subcommand."""
    return ReplyError(
        b"ERR unknown subcommand or wrong number of arguments for '" + _clean(sub[:128])
        + b"'. Try " + container.upper().encode() + b" HELP."
    )


def not_allowed_in_subscribed(cmdname: str) -> ReplyError:
    return ReplyError(
        f"ERR Can't execute '{cmdname}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / "
        "PING / QUIT / RESET are allowed in this context"
    )


def protocol_error(message: str) -> ReplyError:
    # latin-1: a byte quoted in the message ("expected '$', got '\xff'") goes out as is.
    return ReplyError(b"ERR Protocol error: " + message.encode("latin-1"))


# --- Connection and authentication (AUTH, HELLO, CLIENT).
NOAUTH = ReplyError("NOAUTH Authentication required.")
WRONGPASS = ReplyError("WRONGPASS invalid username-password pair or user is disabled.")
AUTH_NOT_CONFIGURED = ReplyError(
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?"
)
NOPROTO = ReplyError("NOPROTO unsupported protocol version")
PROTOVER_NOT_INT = ReplyError("ERR Protocol version is not an integer or out of range")
CLIENT_NAME_SPACES = ReplyError("ERR Client names cannot contain spaces, newlines or special characters.")
NO_SUCH_CLIENT = ReplyError("ERR No such client")
MAX_CLIENTS = ReplyError("ERR max number of clients reached")  # sent before closing


def hello_option(option: bytes) -> ReplyError:
    return ReplyError(b"ERR Syntax error in HELLO option '" + _clean(option) + b"'")


# --- Transactions.
MULTI_NESTED = ReplyError("ERR MULTI calls can not be nested")
EXEC_WITHOUT_MULTI = ReplyError("ERR EXEC without MULTI")
DISCARD_WITHOUT_MULTI = ReplyError("ERR DISCARD without MULTI")
WATCH_IN_MULTI = ReplyError("ERR WATCH inside MULTI is not allowed")
EXECABORT = ReplyError("EXECABORT Transaction discarded because of previous errors.")


def exec_aborted_by(err: ReplyError) -> ReplyError:
    """EXEC itself rejected (arity, auth): the transaction goes with it."""
    reason = err.line[4:] if err.line.startswith(b"ERR ") else err.line
    return ReplyError(b"EXECABORT Transaction discarded because of: " + reason)


# --- Configuration (CONFIG GET/SET/REWRITE).
NO_CONFIG_FILE = ReplyError("ERR The server is running without a config file")
# CONFIG SET failure reasons (after "CONFIG SET failed (possibly related to argument ...) - ").
CONFIG_DUPLICATE = "duplicate parameter"
CONFIG_IMMUTABLE = "can't set immutable config"
CONFIG_PROTECTED = "can't set protected config"


def config_unknown(direction: str, name: bytes) -> ReplyError:
    return ReplyError(
        f"ERR Unknown option or number of arguments for CONFIG {direction} - ".encode()
        + b"'" + _clean(name) + b"'"
    )


def config_set_failed(name: bytes, reason: str) -> ReplyError:
    return ReplyError(
        b"ERR CONFIG SET failed (possibly related to argument '" + _clean(name) + b"') - "
        + reason.encode()
    )


def config_rewrite_failed(reason: str) -> ReplyError:
    return ReplyError("ERR Rewriting config file: " + reason)


# --- Server / admin commands (COMMAND, CLIENT, SLOWLOG, DEBUG, SHUTDOWN...).
INVALID_COMMAND_SPECIFIED = ReplyError("ERR Invalid command specified")
COMMAND_HAS_NO_KEYS = ReplyError("ERR The command has no key arguments")
INVALID_COMMAND_ARGS_NUMBER = ReplyError("ERR Invalid number of arguments specified for command")
INVALID_COMMAND_ARGS = ReplyError("ERR Invalid arguments specified for command")
SLOWLOG_COUNT = ReplyError("ERR count should be greater than or equal to -1")
NO_SHUTDOWN_IN_PROGRESS = ReplyError("ERR No shutdown in progress.")
MONITOR_DENY_BLOCKING = ReplyError("ERR MONITOR isn't allowed for DENY BLOCKING client")
CLIENT_PAUSE_MODE = ReplyError("ERR CLIENT PAUSE mode must be WRITE or ALL")
CLIENT_UNBLOCK_REASON = ReplyError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
CLIENT_ID_POSITIVE = ReplyError("ERR client-id should be greater than 0")
INVALID_CLIENT_ID = ReplyError("ERR Invalid client ID")
UNBLOCKED_BY_CLIENT = ReplyError("UNBLOCKED client unblocked via CLIENT UNBLOCK")
DEBUG_PUSH_RESP2 = ReplyError("ERR RESP2 is not supported by this command")
DEBUG_PROTOCOL_TYPE = ReplyError(
    "ERR Wrong protocol type name. Please use one of the following: "
    "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"
)


def unknown_client_type(name: bytes) -> ReplyError:
    return ReplyError(b"ERR Unknown client type '" + _clean(name) + b"'")


def no_latency_samples(event: bytes) -> ReplyError:
    return ReplyError(b"ERR No samples available for event '" + _clean(event) + b"'")


def no_such_user(name: bytes) -> ReplyError:
    return ReplyError(b"ERR No such user '" + _clean(name) + b"'")


# --- Persistence (SAVE, BGSAVE, BGREWRITEAOF).
AOF_REWRITE_IN_PROGRESS = ReplyError(
    "ERR Background append only file rewriting already in progress")
AOF_REWRITE_FAILED = ReplyError(
    "ERR Can't execute an AOF background rewriting. Please check the server logs for more "
    "information.")
BGSAVE_IN_PROGRESS = ReplyError("ERR Background save already in progress")
BGSAVE_CHILD_ACTIVE = ReplyError(
    "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE "
    "in order to schedule a BGSAVE whenever possible.")
SAVE_FAILED = ReplyError("ERR")


# --- Pub/Sub and keyspace notifications.
NOTIFY_FLAGS_INVALID = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
SSUBSCRIBE_DENY_BLOCKING = ReplyError("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client")


# --- Keyspace (generic) commands.
INVALID_FIRST_DB = ReplyError("ERR invalid first DB index")
INVALID_SECOND_DB = ReplyError("ERR invalid second DB index")
EXPIRE_NX_CONFLICT = ReplyError(
    "ERR NX and XX, GT or LT options at the same time are not compatible"
)
EXPIRE_GT_LT_CONFLICT = ReplyError("ERR GT and LT options at the same time are not compatible")
_POLICY_SWITCH_NOTE = (
    " Please note that when switching between policies at runtime LRU and LFU data"
    " will take some time to adjust."
)
LFU_NOT_SELECTED = ReplyError(
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked." + _POLICY_SWITCH_NOTE
)
LFU_SELECTED = ReplyError(
    "ERR An LFU maxmemory policy is selected, idle time not tracked." + _POLICY_SWITCH_NOTE
)


def invalid_expire(cmdname: str) -> ReplyError:
    return ReplyError(f"ERR invalid expire time in '{cmdname}' command")


# --- Strings.
DECREMENT_OVERFLOW = ReplyError("ERR decrement would overflow")
LCS_NOT_STRINGS = ReplyError("ERR The specified keys must contain string values")
LCS_IDX_AND_LEN = ReplyError("ERR If you want both the length and indexes, please just use IDX.")


# --- Lists and sorted sets.
LPOS_RANK_ZERO = ReplyError(
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
    "or use negative to start from the end of the list")
LPOS_COUNT_NEGATIVE = ReplyError("ERR COUNT can't be negative")
LPOS_MAXLEN_NEGATIVE = ReplyError("ERR MAXLEN can't be negative")
NUMKEYS_POSITIVE = ReplyError("ERR numkeys should be greater than 0")
COUNT_GREATER_ZERO = ReplyError("ERR count should be greater than 0")
ZADD_XX_NX = ReplyError("ERR XX and NX options at the same time are not compatible")
ZADD_GT_LT_NX = ReplyError("ERR GT, LT, and/or NX options at the same time are not compatible")
ZADD_INCR_PAIR = ReplyError("ERR INCR option supports a single increment-element pair")
ZSET_NAN = ReplyError("ERR resulting score is not a number (NaN)")
MIN_MAX_NOT_FLOAT = ReplyError("ERR min or max is not a float")
MIN_MAX_NOT_LEX = ReplyError("ERR min or max not valid string range item")
ZRANGE_LIMIT_NEEDS_BY = ReplyError(
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
ZRANGE_WITHSCORES_BYLEX = ReplyError(
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX")
WEIGHT_NOT_FLOAT = ReplyError("ERR weight value is not a float")
LIMIT_NEGATIVE = ReplyError("ERR LIMIT can't be negative")


def at_least_one_key(fullname: str) -> ReplyError:
    return ReplyError(f"ERR at least 1 input key is needed for '{fullname}' command")


# --- Hashes and sets.
HASH_NOT_INTEGER = ReplyError("ERR hash value is not an integer")
HASH_NOT_FLOAT = ReplyError("ERR hash value is not a float")
VALUE_NAN_OR_INF = ReplyError("ERR value is NaN or Infinity")
MORE_KEYS_THAN_ARGS = ReplyError("ERR Number of keys can't be greater than number of args")


# --- Streams.
INVALID_STREAM_ID = ReplyError("ERR Invalid stream ID specified as stream command argument")
XADD_ID_TOO_SMALL = ReplyError(
    "ERR The ID specified in XADD is equal or smaller than the target stream top item")
XADD_ID_ZERO = ReplyError("ERR The ID specified in XADD must be greater than 0-0")
STREAM_EXHAUSTED = ReplyError(
    "ERR The stream has exhausted the last possible ID, unable to add more items")
XMAXLEN_NEGATIVE = ReplyError("ERR The MAXLEN argument must be >= 0.")
RESPD_RETENTION_NEGATIVE = ReplyError("ERR retention limits must be >= 0")
RESPD_MAXDELIVERIES = ReplyError("ERR MAXDELIVERIES must be a positive integer")
RESPD_DLQ_SAME_KEY = ReplyError("ERR the dead-letter stream must be another key")
XREADGROUP_CLAIM_IDLE = ReplyError("ERR min-idle-time is not an integer or out of range")
XREADGROUP_CLAIM_NEGATIVE = ReplyError("ERR min-idle-time must be a positive integer")
XREAD_CLAIM_OPTION = ReplyError(
    "ERR The CLAIM option is only supported by XREADGROUP. You called XREAD instead.")
XIDS_NUMIDS_POSITIVE = ReplyError("ERR Number of IDs must be a positive integer")
XIDS_NUMIDS_MISMATCH = ReplyError(
    "ERR The `numids` parameter must match the number of arguments")
XLIMIT_NEGATIVE = ReplyError("ERR The LIMIT argument must be >= 0.")
XTRIM_BOTH_STRATEGIES = ReplyError(
    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
XLIMIT_NO_STRATEGY = ReplyError(
    "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
XTRIM_NO_STRATEGY = ReplyError("ERR syntax error, XTRIM must be called with a trimming strategy")
XLIMIT_NOT_APPROX = ReplyError(
    "ERR syntax error, LIMIT cannot be used without the special ~ option")
XRANGE_BAD_START = ReplyError("ERR invalid start ID for the interval")
XRANGE_BAD_END = ReplyError("ERR invalid end ID for the interval")
XSETID_ENTRIES_ADDED_NEGATIVE = ReplyError("ERR entries_added must be positive")
XSETID_BELOW_GIVEN_MAXDELETED = ReplyError(
    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
XSETID_BELOW_TOP = ReplyError(
    "ERR The ID specified in XSETID is smaller than the target stream top item")
XSETID_ENTRIES_ADDED_SMALL = ReplyError(
    "ERR The entries_added specified in XSETID is smaller than the target stream length")
XGROUP_ENTRIESREAD = ReplyError("ERR value for ENTRIESREAD must be positive or -1")
XGROUP_NO_KEY = ReplyError(
    "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want "
    "to use the MKSTREAM option to create an empty stream automatically.")
BUSYGROUP = ReplyError("BUSYGROUP Consumer Group name already exists")
XREAD_UNBALANCED = ReplyError(
    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
XREAD_GROUP_OPTION = ReplyError(
    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
XREAD_NOACK_OPTION = ReplyError(
    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
XREADGROUP_NO_GROUP = ReplyError("ERR Missing GROUP option for XREADGROUP")
XREADGROUP_DOLLAR = ReplyError(
    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history "
    "of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ "
    "ID would just return an empty result set.")
XREAD_GREATER = ReplyError(
    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
    "<consumer> option.")
XREADGROUP_KEY_DELETED = ReplyError("UNBLOCKED the stream key no longer exists")
XREADGROUP_GROUP_DESTROYED = ReplyError(
    "NOGROUP the consumer group this client was blocked on no longer exists")
XCLAIM_MIN_IDLE = ReplyError("ERR Invalid min-idle-time argument for XCLAIM")
XCLAIM_IDLE = ReplyError("ERR Invalid IDLE option argument for XCLAIM")
XCLAIM_TIME = ReplyError("ERR Invalid TIME option argument for XCLAIM")
XCLAIM_RETRYCOUNT = ReplyError("ERR Invalid RETRYCOUNT option argument for XCLAIM")
XAUTOCLAIM_MIN_IDLE = ReplyError("ERR Invalid min-idle-time argument for XAUTOCLAIM")
XAUTOCLAIM_COUNT = ReplyError("ERR COUNT must be > 0")


def xclaim_option(opt: bytes) -> ReplyError:
    return ReplyError(b"ERR Unrecognized XCLAIM option '" + _clean(opt) + b"'")


def nogroup_for_key(group: bytes, key: bytes) -> ReplyError:
    """XGROUP and XINFO CONSUMERS on a missing group."""
    return ReplyError(b"NOGROUP No such consumer group '" + _clean(group)
                      + b"' for key name '" + _clean(key) + b"'")


def block_in_script(cmdname: bytes) -> ReplyError:
    return ReplyError(b"ERR " + _clean(cmdname)
                      + b" command is not allowed with BLOCK option from scripts")


def nogroup_key_or_group(key: bytes, group: bytes, suffix: bytes = b"") -> ReplyError:
    """XPENDING/XCLAIM/XAUTOCLAIM (and, with a suffix, XREADGROUP) on a missing key or
    group."""
    return ReplyError(b"NOGROUP No such key '" + _clean(key) + b"' or consumer group '"
                      + _clean(group) + b"'" + suffix)


# --- Scripting (EVAL, SCRIPT, the Lua redis.* API).
NOSCRIPT = ReplyError("NOSCRIPT No matching script. Please use EVAL.")
NUMKEYS_NEGATIVE = ReplyError("ERR Number of keys can't be negative")
NUMKEYS_TOO_BIG = ReplyError("ERR Number of keys can't be greater than number of args")
SCRIPT_CALL_NO_ARGS = ReplyError(
    "ERR Please specify at least one argument for this redis lib call")
SCRIPT_CALL_BAD_ARG = ReplyError(
    "ERR Lua redis lib command arguments must be strings or integers")
SCRIPT_CALL_UNKNOWN = ReplyError("ERR Unknown Redis command called from script")
SCRIPT_CALL_ARITY = ReplyError("ERR Wrong number of args calling Redis command from script")
SCRIPT_CALL_NOSCRIPT = ReplyError("ERR This Redis command is not allowed from script")
SCRIPT_WRITE_IN_READONLY = ReplyError(
    "ERR Write commands are not allowed from read-only scripts.")
SCRIPT_RO_WITH_WRITE_FLAG = ReplyError(
    "ERR Can not execute a script with write flag using *_ro command.")
SCRIPT_FLUSH_OPTION = ReplyError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
NOTBUSY = ReplyError("NOTBUSY No scripts in execution right now.")
UNKILLABLE = ReplyError(
    "UNKILLABLE Sorry the script already executed write commands against the dataset. "
    "You can either wait the script termination or kill the server in a hard way "
    "using the SHUTDOWN NOSAVE command.")
SCRIPT_SHA1HEX_ARGS = ReplyError("ERR wrong number of arguments")
SCRIPT_LOG_ARGS = ReplyError("ERR redis.log() requires two arguments or more.")
SCRIPT_LOG_LEVEL_TYPE = ReplyError("ERR First argument must be a number (log level).")
SCRIPT_LOG_LEVEL = ReplyError("ERR Invalid debug level.")
SCRIPT_SETRESP_ARGS = ReplyError("ERR redis.setresp() requires one argument.")
SCRIPT_SETRESP_VERSION = ReplyError("ERR RESP version must be 2 or 3.")
SCRIPT_SET_REPL_ARGS = ReplyError("ERR redis.set_repl() requires two arguments.")
SCRIPT_SET_REPL_FLAGS = ReplyError(
    "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
SCRIPT_ACL_UNKNOWN = ReplyError("ERR Invalid command passed to redis.acl_check_cmd()")


def busy_script() -> ReplyError:
    return ReplyError(
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
        "SHUTDOWN NOSAVE.")


def script_compile_error(message: bytes) -> ReplyError:
    return ReplyError(b"ERR Error compiling script (new function): " + _clean(message))




def script_bad_engine(engine: bytes) -> ReplyError:
    return ReplyError(b"ERR Unexpected engine in script shebang: " + _clean(engine))


def script_bad_shebang_option(option: bytes) -> ReplyError:
    return ReplyError(b"ERR Unknown lua shebang option: " + _clean(option))


def script_bad_flag(flag: bytes) -> ReplyError:
    return ReplyError(b"ERR Unexpected flag in script shebang: " + _clean(flag))


# --- Functions (FUNCTION LOAD/LIST/DUMP/RESTORE, FCALL).
FUNCTION_FLUSH_MODE = ReplyError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
FUNCTION_NO_METADATA = ReplyError("ERR Missing library metadata")
FUNCTION_BAD_METADATA = ReplyError("ERR Invalid library metadata")
FUNCTION_NAME_TWICE = ReplyError(
    "ERR Invalid metadata value, name argument was given multiple times")
FUNCTION_NO_NAME = ReplyError("ERR Library name was not given")
FUNCTION_BAD_NAME = ReplyError(
    "ERR Library names can only contain letters, numbers, or underscores(_) and must be "
    "at least one character long")
FUNCTION_NONE_REGISTERED = ReplyError("ERR No functions registered")
FUNCTION_LIBRARY_NOT_FOUND = ReplyError("ERR Library not found")
FUNCTION_NOT_FOUND = ReplyError("ERR Function not found")
FUNCTION_BAD_NUMKEYS = ReplyError("ERR Bad number of keys provided")
FUNCTION_LIST_NO_PATTERN = ReplyError("ERR library name argument was not given")
FUNCTION_BAD_PAYLOAD = ReplyError("ERR DUMP payload version or checksum are wrong")
FUNCTION_PAYLOAD_NOT_FUNCTION = ReplyError("ERR given type is not a function")
FUNCTION_PAYLOAD_UNREADABLE = ReplyError("ERR failed loading the given functions payload")
FUNCTION_RESTORE_POLICY = ReplyError(
    "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")


def busy_function() -> ReplyError:
    return ReplyError(
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
        "SHUTDOWN NOSAVE.")


def function_bad_metadata_value(part: bytes) -> ReplyError:
    return ReplyError(b"ERR Invalid metadata value given: " + _clean(part))


def function_engine_not_found(engine: bytes) -> ReplyError:
    return ReplyError(b"ERR Engine '" + _clean(engine) + b"' not found")


def function_library_exists(name: bytes) -> ReplyError:
    return ReplyError(b"ERR Library '" + _clean(name) + b"' already exists")


def function_library_exists_plain(name: bytes) -> ReplyError:
    """FUNCTION RESTORE words the clash without the quotes FUNCTION LOAD uses."""
    return ReplyError(b"ERR Library " + _clean(name) + b" already exists")


def function_exists(name: bytes) -> ReplyError:
    return ReplyError(b"ERR Function " + _clean(name) + b" already exists")


def function_compile_error(message: bytes) -> ReplyError:
    return ReplyError(b"ERR Error compiling function: " + _clean(message))


def function_register_error(message: bytes) -> ReplyError:
    return ReplyError(b"ERR Error registering functions: " + _clean(message))


# --- Bitmaps, HyperLogLog, geo -------------------------------------------------------------
BIT_OFFSET = ReplyError("ERR bit offset is not an integer or out of range")
BIT_VALUE = ReplyError("ERR bit is not an integer or out of range")
BIT_ARGUMENT = ReplyError("ERR The bit argument must be 1 or 0.")
BITOP_NOT_ONE_KEY = ReplyError("ERR BITOP NOT must be called with a single source key.")
BITFIELD_TYPE = ReplyError(
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported "
    "but i64 is.")
BITFIELD_OVERFLOW = ReplyError("ERR Invalid OVERFLOW type specified")
BITFIELD_RO_GET_ONLY = ReplyError("ERR BITFIELD_RO only supports the GET subcommand")
HLL_WRONGTYPE = ReplyError("WRONGTYPE Key is not a valid HyperLogLog string value.")
HLL_CORRUPTED = ReplyError("INVALIDOBJ Corrupted HLL object detected")
PFDEBUG_NO_KEY = ReplyError("ERR The specified key does not exist")
PFDEBUG_NOT_SPARSE = ReplyError("ERR HLL encoding is not sparse")


def pfdebug_unknown(sub: bytes) -> ReplyError:
    return ReplyError(b"ERR Unknown PFDEBUG subcommand '" + _clean(sub.split(b"\0", 1)[0]) + b"'")


def hll_test_failed(detail: str) -> ReplyError:
    return ReplyError("TESTFAILED " + detail)


GEO_UNIT = ReplyError("ERR unsupported unit provided. please use M, KM, FT, MI")
GEO_RADIUS_NOT_NUMBER = ReplyError("ERR need numeric radius")
GEO_RADIUS_NEGATIVE = ReplyError("ERR radius cannot be negative")
GEO_WIDTH_NOT_NUMBER = ReplyError("ERR need numeric width")
GEO_HEIGHT_NOT_NUMBER = ReplyError("ERR need numeric height")
GEO_BOX_NEGATIVE = ReplyError("ERR height or width cannot be negative")
GEO_NO_MEMBER = ReplyError("ERR could not decode requested zset member")
GEO_COUNT = ReplyError("ERR COUNT must be > 0")
GEO_ANY_NEEDS_COUNT = ReplyError("ERR the ANY argument requires COUNT argument")
GEOSEARCHSTORE_WITH = ReplyError(
    "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
GEORADIUS_STORE_WITH = ReplyError(
    "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD "
    "options")


def geo_invalid_pair(lon: float, lat: float) -> ReplyError:
    return ReplyError("ERR invalid longitude,latitude pair %f,%f" % (lon, lat))


def geo_need_from(cmdname: bytes) -> ReplyError:
    return ReplyError(b"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for "
                      + _clean(cmdname.split(b"\0", 1)[0]))


def geo_need_by(cmdname: bytes) -> ReplyError:
    return ReplyError(b"ERR exactly one of BYRADIUS and BYBOX can be specified for "
                      + _clean(cmdname.split(b"\0", 1)[0]))


# --- MODULE and protected commands (enable-*-command) --------------------------------------
MODULE_LOAD_FAILED = ReplyError("ERR Error loading the extension. Please check the server logs.")
MODULE_NOT_LOADED = ReplyError("ERR Error unloading module: no such module with that name")


def protected_command_not_allowed(command: str, option: str) -> ReplyError:
    """DEBUG or MODULE LOAD/LOADEX/UNLOAD refused by enable-debug/module-command."""
    return ReplyError(
        f"ERR {command} command not allowed. If the {option} option is set to \"local\", "
        "you can run it from a local connection, otherwise you need to set this option in "
        "the configuration file, and then restart the server.")

# --- replication ---------------------------------------------------------------------------
READONLY = ReplyError("READONLY You can't write against a read only replica.")
MASTERDOWN = ReplyError("MASTERDOWN Link with MASTER is down and replica-serve-stale-data "
                        "is set to 'no'.")
NOREPLICAS = ReplyError("NOREPLICAS Not enough good replicas to write.")
INVALID_MASTER_PORT = ReplyError("ERR Invalid master port")


def unrecognized_replconf(option: bytes) -> ReplyError:
    return ReplyError(b"ERR Unrecognized REPLCONF option: " + option)


FAILOVER_ON_REPLICA = ReplyError("ERR FAILOVER is not valid when server is a replica.")
FAILOVER_NO_REPLICAS = ReplyError("ERR FAILOVER requires connected replicas.")
FAILOVER_IN_PROGRESS = ReplyError("ERR FAILOVER already in progress.")
FAILOVER_NONE = ReplyError("ERR No failover in progress.")
FAILOVER_TIMEOUT = ReplyError("ERR FAILOVER timeout must be greater than 0")
FAILOVER_FORCE = ReplyError("ERR FAILOVER with force option requires both a timeout and "
                            "target HOST and IP.")
FAILOVER_NOT_REPLICA = ReplyError("ERR FAILOVER target HOST and PORT is not a replica.")
FAILOVER_NOT_ONLINE = ReplyError("ERR FAILOVER target replica is not online.")
PSYNC_FAILOVER_REPLID = ReplyError("ERR PSYNC FAILOVER replid must match my replid.")
SYNC_WHILE_FAILING_OVER = ReplyError("NOMASTERLINK Can't SYNC while failing over")
NOMASTERLINK = ReplyError("NOMASTERLINK Can't SYNC while not connected with my master")
WAIT_ON_REPLICA = ReplyError(
    "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 "
    "if a replica is configured to be writable (which is not the default) writes to "
    "replicas are just local and are not propagated.")
UNBLOCKED_ROLE_CHANGE = ReplyError("UNBLOCKED force unblock from blocking operation, "
                                   "instance state changed (master -> replica?)")


# --- The request reader --------------------------------------------------------------------
# respd's own: the request reader failed (a bug); the client is disconnected.
PROTOCOL_UNREADABLE = "unreadable request"


# --- ACL: permission denials (processCommand), their EXEC-time and script variants, ACL command errors ---
# Permission denials (processCommand), their EXEC-time and script variants, ACL command
# errors.
NOPERM_KEY = ReplyError("NOPERM this user has no permissions to access one of the keys "
                        "used as arguments")
NOPERM_CHANNEL = ReplyError("NOPERM this user has no permissions to access one of the "
                            "channels used as arguments")


def noperm_command(fullname: str) -> ReplyError:
    return ReplyError(f"NOPERM this user has no permissions to run the '{fullname}' command")


# EXEC re-checks every queued command: the rules may have changed since it was queued.
_NOPERM_EXEC = ("NOPERM ACLs rules changed between the moment the transaction was "
                "accumulated and the EXEC call. This command is no longer allowed for the "
                "following reason: ")
NOPERM_EXEC_COMMAND = ReplyError(_NOPERM_EXEC + "no permission to execute the command or "
                                 "subcommand")
NOPERM_EXEC_KEY = ReplyError(_NOPERM_EXEC + "no permission to touch the specified keys")
NOPERM_EXEC_CHANNEL = ReplyError(_NOPERM_EXEC + "no permission to access one of the channels "
                                 "used as arguments")
# redis.call from a script whose caller lacks the permission.
SCRIPT_NOPERM_COMMAND = ReplyError("ERR The user executing the script can't run this "
                                   "command or subcommand")
SCRIPT_NOPERM_KEY = ReplyError("ERR The user executing the script can't access at least one "
                               "of the keys mentioned in the command arguments")
SCRIPT_NOPERM_CHANNEL = ReplyError("ERR The user executing the script can't publish to the "
                                   "channel mentioned in the command")
ACL_DELETE_DEFAULT = ReplyError("ERR The 'default' user cannot be removed")
ACL_USERNAME_SPACES = ReplyError("ERR Usernames can't contain spaces or null characters")
ACL_NO_FILE = ReplyError(
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify "
    "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
    "Redis configuration file set) in order to store users in the Redis configuration.")
ACL_SAVE_FAILED = ReplyError("ERR There was an error trying to save the ACLs. Please check "
                             "the server logs for more information")
ACL_GENPASS_BITS = ReplyError("ERR ACL GENPASS argument must be the number of bits for the "
                              "output password, a positive number up to 4096")


def acl_setuser_modifier(op: bytes, reason: str) -> ReplyError:
    return ReplyError(b"ERR Error in ACL SETUSER modifier '" + _clean(op) + b"': "
                      + reason.encode())


def acl_unmatched_parenthesis(op: bytes) -> ReplyError:
    return ReplyError(b"ERR Unmatched parenthesis in acl selector starting at '"
                      + _clean(op) + b"'.")


def acl_unknown_category(name: bytes) -> ReplyError:
    return ReplyError(b"ERR Unknown category '" + _clean(name[:128]) + b"'")


def acl_dryrun_no_user(name: bytes) -> ReplyError:
    return ReplyError(b"ERR User '" + _clean(name) + b"' not found")


def acl_dryrun_no_command(name: bytes) -> ReplyError:
    return ReplyError(b"ERR Command '" + _clean(name) + b"' not found")


def acl_file_unreadable(path: str, reason: str) -> ReplyError:
    return ReplyError(f"ERR Error loading ACLs, opening file '{path}': {reason}")


def acl_load_failed(problems: bytes) -> ReplyError:
    return ReplyError(b"ERR " + _clean(problems) + b"WARNING: ACL errors detected, no change "
                      b"to the previously active ACL rules was performed")


# --- Memory (maxmemory, MEMORY) ------------------------------------------------------------
OOM = ReplyError("OOM command not allowed when used memory > 'maxmemory'.")


# --- Scripting: the Lua sandbox (respd/scripting.py); the Lua prelude raises LUA_MESSAGES' texts ---
LUA_MESSAGES: dict[str, str] = {
    "readonly": "Attempt to modify a readonly table",
    "nonexistent_global": "Script attempted to access nonexistent global variable '%s'",
    "reply_args": "ERR wrong number or type of arguments",
    "killed": "ERR Script killed by user with SCRIPT KILL...",
    "call_boolean": "attempt to call a boolean value",
    "load_timeout": "ERR FUNCTION LOAD timeout",
    "register_single_arg": "calling redis.register_function with a single argument is only "
                           "applicable to Lua table (representing named arguments).",
    "register_unknown_arg": "unknown argument given to redis.register_function",
    "register_no_name": "redis.register_function must get a function name argument",
    "register_no_callback": "redis.register_function must get a callback argument",
    "register_arg_count": "wrong number of arguments to redis.register_function",
    "register_name_type": "first argument to redis.register_function must be a string",
    "register_callback_type": "second argument to redis.register_function must be a function",
    "register_bad_name": "Library names can only contain letters, numbers, or underscores(_) "
                         "and must be at least one character long",
    "register_exists": "Function already exists in the library",
    "register_flags_type": "flags argument to redis.register_function must be a table "
                           "representing function flags",
    "register_unknown_flag": "unknown flag given",
    "register_description_type": "description argument given to redis.register_function "
                                 "must be a string",
}
LUA_INDEX_FUNCTION = b"attempt to index a function value"
LUA_OUT_OF_MEMORY = b"not enough memory"
SCRIPT_STACK_LIMIT = ReplyError("ERR reached lua stack limit")


def script_run_failure(name: bytes, message: bytes) -> ReplyError:
    """A script that failed with something other than an error table (out of memory, an
    error in the error handler): Redis keeps 100 bytes of the message."""
    return ReplyError(b"ERR Error running script " + name + b", "
                      + _clean(message[:100].strip(b"\r\n")))


# --- DUMP / RESTORE ------------------------------------------------------------------------
BUSYKEY = ReplyError("BUSYKEY Target key name already exists.")
DUMP_PAYLOAD_WRONG = ReplyError("ERR DUMP payload version or checksum are wrong")
BAD_DATA_FORMAT = ReplyError("ERR Bad data format")
INVALID_TTL = ReplyError("ERR Invalid TTL value, must be >= 0")
INVALID_IDLETIME = ReplyError("ERR Invalid IDLETIME value, must be >= 0")
INVALID_FREQ = ReplyError("ERR Invalid FREQ value, must be >= 0 and <= 255")


# --- SORT ----------------------------------------------------------------------------------
SORT_NOT_DOUBLE = ReplyError("ERR One or more scores can't be converted into double")
SORT_BY_ACL = ReplyError("ERR BY option of SORT denied due to insufficient ACL permissions.")
SORT_GET_ACL = ReplyError("ERR GET option of SORT denied due to insufficient ACL permissions.")


# --- SCRIPT DEBUG --------------------------------------------------------------------------
SCRIPT_DEBUG_PIPELINE = ReplyError("ERR SCRIPT DEBUG must be called outside a pipeline")
SCRIPT_DEBUG_OPTION = ReplyError("ERR Use SCRIPT DEBUG YES/SYNC/NO")
SCRIPT_DEBUG_UNSUPPORTED = ReplyError(
    "ERR SCRIPT DEBUG YES/SYNC is not supported: respd has no Lua debugger")

# --- CLIENT TRACKING / CACHING (respd.tracking) ---
TRACKING_ONE_REDIRECT = ReplyError("ERR A client can only redirect to a single other client")
TRACKING_NO_REDIRECT_TARGET = ReplyError(
    "ERR The client ID you want redirect to does not exist")
TRACKING_PREFIX_NEEDS_BCAST = ReplyError("ERR PREFIX option requires BCAST mode to be enabled")
TRACKING_BCAST_SWITCH = ReplyError(
    "ERR You can't switch BCAST mode on/off before disabling tracking for this client, "
    "and then re-enabling it with a different mode.")
TRACKING_BCAST_OPT = ReplyError("ERR OPTIN and OPTOUT are not compatible with BCAST")
TRACKING_OPTIN_OPTOUT = ReplyError("ERR You can't specify both OPTIN mode and OPTOUT mode")
TRACKING_OPT_SWITCH = ReplyError(
    "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, "
    "and then re-enabling it with a different mode.")
CACHING_NOT_OPT = ReplyError(
    "ERR CLIENT CACHING can be called only when the client is in tracking mode with "
    "OPTIN or OPTOUT mode enabled")
CACHING_YES_NOT_OPTIN = ReplyError(
    "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
CACHING_NO_NOT_OPTOUT = ReplyError(
    "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")


def tracking_prefix_overlap(prefix: bytes, other: bytes, provided: bool) -> ReplyError:
    where = b"another provided" if provided else b"an existing"
    return ReplyError(b"ERR Prefix '" + _clean(prefix) + b"' overlaps with " + where
                      + b" prefix '" + _clean(other) + b"'. Prefixes for a single client "
                      b"must not overlap.")

# --- MISCONF: writes refused after a failed background save (respd.misconf) ---
MISCONF_RDB = ReplyError(
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist "
    "to disk. Commands that may modify the data set are disabled, because this instance is "
    "configured to report errors during writes if RDB snapshotting fails "
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the "
    "RDB error.")


# --- Streams, Redis 8.6-8.10 (XNACK, XCFGSET, IDMP, MAXCOUNT/MAXSIZE) ----------------------
# XNACK's own texts begin with "ERR" and go through addReplyError, which adds another
# "ERR ": the doubled prefix is what Redis 8.8 sends.
XNACK_MODE = ReplyError("ERR ERR mode must be SILENT, FAIL, or FATAL")
XNACK_NUMIDS = ReplyError("ERR numids must be a positive integer")
XNACK_NUMIDS_MISMATCH = ReplyError("ERR ERR number of IDs doesn't match numids")
XNACK_RETRYCOUNT = ReplyError("ERR ERR Invalid RETRYCOUNT value, must be >= 0")
XNACK_NO_IDS = ReplyError("ERR ERR syntax error, expected IDS keyword")


def xnack_option(option: bytes) -> ReplyError:
    return ReplyError(b"ERR ERR Unrecognized XNACK option '" + _clean(option) + b"'")
XREAD_MAXCOUNT = ReplyError("ERR MAXCOUNT must be a positive integer")
XREAD_MAXSIZE = ReplyError("ERR MAXSIZE must be a positive integer")
XREAD_MAXCOUNT_BELOW_COUNT = ReplyError("ERR MAXCOUNT must be greater than or equal to COUNT")
XADD_IDMP_TWICE = ReplyError("ERR syntax error, IDMP/IDMPAUTO specified multiple times")
XADD_IDMPAUTO_EMPTY_PID = ReplyError(
    "ERR syntax error, IDMPAUTO requires a non-empty producer ID")
XADD_IDMP_EMPTY_PID = ReplyError("ERR syntax error, IDMP requires a non-empty producer ID")
XADD_IDMP_EMPTY_IID = ReplyError("ERR syntax error, IDMP requires a non-empty idempotent ID")
XADD_IDMP_AUTO_ID_ONLY = ReplyError(
    "ERR syntax error, IDMP/IDMPAUTO can be used only with auto-generated IDs")
XCFGSET_DURATION_TWICE = ReplyError("ERR IDMP-DURATION specified multiple times")
XCFGSET_MAXSIZE_TWICE = ReplyError("ERR IDMP-MAXSIZE specified multiple times")
XCFGSET_DURATION_RANGE = ReplyError("ERR IDMP-DURATION must be between 1 and 86400 seconds")
XCFGSET_MAXSIZE_RANGE = ReplyError("ERR IDMP-MAXSIZE must be between 1 and 10000 entries")
XCFGSET_NOTHING = ReplyError("ERR At least one parameter must be specified")
XIDMP_EMPTY_PID = ReplyError("ERR producer ID must be non-empty")
XIDMP_EMPTY_IID = ReplyError("ERR idempotent ID must be non-empty")
XIDMP_NO_MESSAGE = ReplyError("ERR No such message in stream")
XIDMP_OTHER_ID = ReplyError(
    "ERR IID already exists for this producer with a different stream ID")


# Cluster mode (Redis's clusterRedirectClient and clusterCommand replies).
CLUSTER_DISABLED = ReplyError("ERR This instance has cluster support disabled")
SELECT_IN_CLUSTER = ReplyError("ERR SELECT is not allowed in cluster mode")
CROSSSLOT = ReplyError("CROSSSLOT Keys in request don't hash to the same slot")
TRYAGAIN_UNSTABLE = ReplyError("TRYAGAIN Multiple keys request during rehashing of slot")
CLUSTERDOWN = ReplyError("CLUSTERDOWN The cluster is down")
CLUSTERDOWN_RO = ReplyError("CLUSTERDOWN The cluster is down and only accepts read commands")
CLUSTERDOWN_UNBOUND = ReplyError("CLUSTERDOWN Hash slot not served")
INVALID_SLOT = ReplyError("ERR Invalid or out of range slot")
UNKNOWN_NODE_PREFIX = "ERR Unknown node "


def redirect(kind: str, slot: int, host: str, port: int) -> ReplyError:
    """-MOVED / -ASK slot host:port."""
    return ReplyError(f"{kind} {slot} {host}:{port}")


# MIGRATE (Redis's migrateCommand replies).
IOERR_CONNECT = ReplyError("IOERR error or timeout connecting to the client")
IOERR_WRITE = ReplyError("IOERR error or timeout writing to target instance")
IOERR_READ = ReplyError("IOERR error or timeout reading to target instance")


def migrate_target_error(line: bytes) -> ReplyError:
    return ReplyError(b"ERR Target instance replied with error: " + line)


# Cluster and MIGRATE argument errors: template name → Redis's line.
_CLUSTER_ERRORS = {
    'INVALID_SLOT': 'ERR Invalid slot',
    'INVALID_SLOT_OR_NUMBER_OF_KEYS': 'ERR Invalid slot or number of keys',
    'SLOT_BUSY': 'ERR Slot {slot} is already busy',
    'SLOT_UNASSIGNED': 'ERR Slot {slot} is already unassigned',
    'SLOT_REPEATED': 'ERR Slot {slot} specified multiple times',
    'START_SLOT_NUMBER': 'ERR start slot number {start} is greater than end slot number {end}',
    'DB_MUST_BE_EMPTY_TO_PERFORM_CLUSTER_FLUS': 'ERR DB must be empty to perform CLUSTER FLUSHSLOTS.',
    'INVALID_TCP_BASE_PORT_SPECIFIED': 'ERR Invalid TCP base port specified: {argv}',
    'INVALID_NODE_ADDRESS_SPECIFIED': 'ERR Invalid node address specified: {ip}:{port}',
    'I_TRIED_HARD_BUT_I_CAN_T_FORGET_MYSELF': "ERR I tried hard but I can't forget myself...",
    'CAN_T_FORGET_MY_MASTER': "ERR Can't forget my master!",
    'CAN_T_REPLICATE_MYSELF': "ERR Can't replicate myself",
    'I_CAN_ONLY_REPLICATE_A_MASTER': 'ERR I can only replicate a master, not a replica.',
    'TO_SET_A_MASTER_THE_NODE_MUST_BE_EMPTY': 'ERR To set a master the node must be empty and without assigned slots.',
    'SEND_CLUSTER_FAILOVER_TO_A_REPLICA': 'ERR You should send CLUSTER FAILOVER to a replica',
    'MY_MASTER_IS_UNKNOWN': "ERR I'm a replica but my master is unknown to me",
    'MASTER_IS_DOWN_USE_FORCE': 'ERR Master is down or failed, please use CLUSTER FAILOVER FORCE',
    'REPLICAOF_IN_CLUSTER_MODE': 'ERR REPLICAOF not allowed in cluster mode.',
    'FAILOVER_IN_CLUSTER_MODE': 'ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead.',
    'THE_SPECIFIED_NODE_IS_NOT_A_MASTER': 'ERR The specified node is not a master',
    'CLUSTER_RESET_CAN_T_BE_CALLED_WITH_MASTE': "ERR CLUSTER RESET can't be called with master nodes containing keys",
    'PLEASE_USE_SETSLOT_ONLY_WITH_MASTERS': 'ERR Please use SETSLOT only with masters.',
    'INVALID_CLUSTER_SETSLOT_ACTION_OR_NUMBER': 'ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP',
    'I_M_NOT_THE_OWNER_OF_HASH_SLOT': "ERR I'm not the owner of hash slot {slot}",
    'I_M_ALREADY_THE_OWNER_OF_HASH_SLOT': "ERR I'm already the owner of hash slot {slot}",
    'TARGET_NODE_IS_NOT_A_MASTER': 'ERR Target node is not a master',
    'CAN_T_ASSIGN_HASHSLOT': "ERR Can't assign hashslot {slot} to a different node while I still hold keys for this hash slot.",
    'I_DON_T_KNOW_ABOUT_NODE': "ERR I don't know about node {raw}",
    'INVALID_CONFIG_EPOCH_SPECIFIED': 'ERR Invalid config epoch specified: {epoch}',
    'THE_USER_CAN_ASSIGN_A_CONFIG_EPOCH_ONLY': 'ERR The user can assign a config epoch only when the node does not know any other node.',
    'NODE_CONFIG_EPOCH_IS_ALREADY_NON_ZERO': 'ERR Node config epoch is already non-zero',
    'ERROR_SAVING_THE_CLUSTER_NODE_CONFIG': 'ERR error saving the cluster node config: {exc}',
    'WHEN_USING_MIGRATE_KEYS_OPTION_THE_KEY_A': 'ERR When using MIGRATE KEYS option, the key argument must be set to the empty string',
}


def cluster_error(name: str, **fields: object) -> ReplyError:
    return ReplyError(_CLUSTER_ERRORS[name].format(**fields))
