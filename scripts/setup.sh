#!/bin/sh
# Installs what kproxy's demo and tests need, and nothing that is already there:
#   - npm dependencies (including Node 24 from the npm registry's `node` package), when
#     node_modules is missing or older than package-lock.json;
#   - when run as root on Debian, the packages the kernel and DNS tests use, when missing.
# Run by `npm start` and `npm test` before anything else (prestart/pretest).
set -eu
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] ||
   [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund >&2
fi

if [ "${KPROXY_SETUP_PACKAGES:-auto}" = "auto" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  # command name -> Debian package
  missing=""
  for pair in iptables:iptables iptables-legacy:iptables nft:nftables ipset:ipset conntrack:conntrack \
              ip:iproute2 haproxy:haproxy dnsmasq:dnsmasq-base dig:dnsutils kubectl:kubernetes-client \
              curl:curl socat:socat ipvsadm:ipvsadm \
              dnsperf:dnsperf; do
    cmd=${pair%%:*}; pkg=${pair#*:}
    if ! command -v "$cmd" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$cmd" ] && ! [ -x "/sbin/$cmd" ]; then
      case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
    fi
  done
  if [ -n "$missing" ]; then
    echo "setup: installing Debian packages:$missing" >&2
    # shellcheck disable=SC2086
    apt-get install -y --no-install-recommends $missing >&2 ||
      { apt-get update >&2 && apt-get install -y --no-install-recommends $missing >&2; }
  fi
fi
