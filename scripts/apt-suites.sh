# Sourced by scripts/engine and scripts/setup-host.sh: Debian's newer suites (trixie, sid) in apt,
# at a low pin priority so that nothing installed upgrades; a package comes from them only when
# asked for by name and suite. They reuse the archive URI the machine already uses for bookworm.
# shellcheck shell=bash

# The first URI the machine's apt uses for bookworm's main archive (deb822 or one-line form).
archive_uri() {
  local uri
  uri=$(awk '/^URIs:/{u=$2} /^Suites:/ && / bookworm( |$)/{print u; exit}' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1=="deb" && $3=="bookworm"{print $2; exit}' \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
  [ -n "$uri" ] || { echo "no apt source for bookworm's main archive found to reuse for trixie/sid" >&2; exit 2; }
  echo "$uri"
}

add_suites() {
  local sources=/etc/apt/sources.list.d/dockernet-suites.sources
  [ -f "$sources" ] && [ -f /etc/apt/preferences.d/dockernet-suites ] && return
  cat >"$sources" <<EOF
Types: deb
URIs: $(archive_uri)
Suites: trixie sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # Below 500, and below 100 for sid: nothing installed upgrades, a package is taken from these
  # suites only when asked for by name and suite.
  cat >/etc/apt/preferences.d/dockernet-suites <<EOF
Package: *
Pin: release n=trixie
Pin-Priority: 100

Package: *
Pin: release n=sid
Pin-Priority: 50
EOF
  apt-get update -q >/dev/null
}
