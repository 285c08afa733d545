# respd in a container: Debian slim, pip install, the sample config with the listeners
# opened to the container's network (publish the ports to choose who reaches them).
#   docker build -t respd . && docker run -p 6379:6379 -p 9121:9121 respd
FROM python:3.11-slim-bookworm

WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY respd ./respd
COPY commands ./commands
COPY storage ./storage
RUN pip install --no-cache-dir . && rm -rf /src

RUN useradd --system --home-dir /data --create-home respd
COPY respd.conf /etc/respd/respd.conf
WORKDIR /data
USER respd
VOLUME /data
EXPOSE 6379 9121

# Inside a container the listeners must bind beyond loopback; set a password
# (--requirepass, or a `user` line) before exposing them past your own host.
CMD ["respd", "/etc/respd/respd.conf", "--bind", "0.0.0.0", "--dir", "/data", \
     "--http-port", "9121", "--http-bind", "0.0.0.0"]
