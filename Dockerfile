# The sidecar image: a Java 17 runtime, iptables and iproute2, and the prebuilt shaded jar.
#
#   mvn -B -q -DskipTests package -pl proxy -am          # makes proxy/target/sidecar.jar
#   docker build -t sidecar .                              # base: a public JRE 17 image
#   docker build --build-arg BASE=sidecar-base:local -t sidecar .   # base made locally (CI)
#   docker run --cap-add NET_ADMIN --cap-add NET_RAW sidecar [sidecar run options]
#
# The container starts as root only so that `sidecar run` can install the NAT rules in the pod's
# network namespace; the proxy then drops to uid/gid 2102 itself and keeps no capability.
# Nothing is fetched at run time.

# Any image with a Java 17 runtime on PATH. Debian/Ubuntu-based images without iptables get it
# from apt at build time; a base that already has iptables (CI's, built with no registry) is used
# as it is.
ARG BASE=eclipse-temurin:17-jre
FROM ${BASE}

RUN set -e; \
    if command -v iptables-restore >/dev/null 2>&1 && command -v ip >/dev/null 2>&1; then \
      echo "base image already has iptables and iproute2"; \
    else \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iptables iproute2; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    java -version 2>&1 | grep -q '"17\.' || { echo "BASE must provide a Java 17 runtime on PATH" >&2; exit 1; }

COPY docker/image/sidecar /usr/local/bin/sidecar
COPY docker/image/jvm.options /opt/sidecar/jvm.options
COPY proxy/target/sidecar.jar /opt/sidecar/sidecar.jar
COPY bin/sidecar-cds /opt/sidecar/sidecar-cds
# After the drop to uid 2102 the JVM still loads classes lazily from the jar, so the jar must stay
# readable by every uid whatever the file mode in the build context was. `find` touches nothing
# (and adds no copy of the jar to the layer) when the modes are already right.
RUN find /opt/sidecar /usr/local/bin/sidecar \( -type d ! -perm -0555 -exec chmod a+rx {} + \) \
      -o \( -type f ! -perm -0444 -exec chmod a+r {} + \) \
 && chmod 0755 /usr/local/bin/sidecar
# Class-data sharing: an archive of the classes a start loads, made once here by the script
# bin/sidecar uses on a host (the training start drops to uid 2102, so it comes after the modes
# above), so that every container maps classes already parsed and verified instead of reading them
# from the jar. The launcher uses it with the default JVM flags only; with SIDECAR_JAVA_OPTS it
# starts without. A training that fails says why and leaves the image without it.
RUN bash /opt/sidecar/sidecar-cds /opt/sidecar/sidecar.jar /opt/sidecar/sidecar.jsa \
      "$(sed -e 's/#.*//' /opt/sidecar/jvm.options | tr -s ' \t\n' ' ')" --in-build || true

# 4143 inbound (every redirected inbound connection), 4191 admin (/live /ready /metrics).
# 4140, the outbound listener, binds 127.0.0.1 only and is not published.
EXPOSE 4143 4191
LABEL org.opencontainers.image.title="sidecar" \
      org.opencontainers.image.description="Transparent Linkerd-style sidecar proxy on the JVM"

ENTRYPOINT ["/usr/local/bin/sidecar", "run"]
