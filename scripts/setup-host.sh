#!/usr/bin/env bash
# Prepares this Debian host for Flocker for Java: packages, the zfs-fuse daemon, a dockerd, and the
# locally built images. Idempotent and safe to re-run; a second run takes seconds.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
require_root "scripts/setup-host.sh"

DOCKER=/usr/bin/docker
PACKAGES=(docker.io zfs-fuse openssh-server openssh-client iproute2 iptables busybox-static debootstrap
          util-linux procps curl maven postgresql-client ca-certificates tcpdump tmux chromium)
IMAGE_RECIPE=3   # bump when an image recipe below changes, so caches are rebuilt
IMAGE_DIR=$FLOCKER_CACHE/images
BUSYBOX_IMAGE=flocker/busybox:local
POSTGRES_IMAGE=flocker/postgres:15
LOG_DIR=/var/log/flocker
mkdir -p "$IMAGE_DIR" "$LOG_DIR"

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then info "packages: all present"; return; fi
  say "installing packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >"$LOG_DIR/apt.log" 2>&1 || die "apt-get update failed; see $LOG_DIR/apt.log"
  apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$LOG_DIR/apt.log" 2>&1 \
    || die "apt-get install ${missing[*]} failed; see $LOG_DIR/apt.log"
}

# zfs-fuse leaves a pidfile, a socket and stale FUSE mounts behind when it dies; clear them, then start.
start_zfs() {
  if pidfile_alive /run/zfs-fuse.pid && zpool list >/dev/null 2>&1; then info "zfs-fuse: running"; return; fi
  say "starting zfs-fuse"
  [ -c /dev/fuse ] || die "/dev/fuse is missing: zfs-fuse needs FUSE"
  if pidfile_alive /run/zfs-fuse.pid; then
    # Alive but not answering yet (just started): give it a moment before calling it dead.
    wait_for "zpool" 10 zpool list && { info "zfs-fuse: running"; return; }
    kill "$(cat /run/zfs-fuse.pid)" 2>/dev/null || true; sleep 1
  fi
  rm -f /run/zfs-fuse.pid /var/run/zfs/zfs_socket
  local m
  awk '$3 == "fuse.zfs" {print $2}' /proc/mounts | sort -r | while read -r m; do
    info "unmounting stale zfs mount $m"; umount -l "$(printf '%b' "$m")" || true
  done
  zfs-fuse --pidfile /run/zfs-fuse.pid >>"$LOG_DIR/zfs-fuse.log" 2>&1 || die "zfs-fuse failed to start; see $LOG_DIR/zfs-fuse.log"
  wait_for "zpool" 30 zpool list || die "zfs-fuse started but zpool does not answer; see $LOG_DIR/zfs-fuse.log"
  # Under the machine's mount lock, as every mount on zfs-fuse (DESIGN.md, "zfs-fuse").
  flock /run/flocker-zfs-fuse-mounts.lock zfs mount -a 2>>"$LOG_DIR/zfs-fuse.log" || info "zfs mount -a reported errors (see $LOG_DIR/zfs-fuse.log)"
}

start_dockerd() {
  if $DOCKER info >/dev/null 2>&1; then info "dockerd: running"; return; fi
  say "starting dockerd"
  if [ -e /var/run/docker.pid ] && ! pidfile_alive /var/run/docker.pid; then rm -f /var/run/docker.pid; fi
  setsid dockerd --pidfile /var/run/docker.pid >>"$LOG_DIR/dockerd.log" 2>&1 < /dev/null &
  wait_for "dockerd" 60 $DOCKER info || die "dockerd did not come up in 60 s; see $LOG_DIR/dockerd.log"
}

# A tiny image: busybox-static's applets, a shell that exits on TERM, httpd for tests.
busybox_rootfs_tar() {
  local tar=$IMAGE_DIR/busybox-r$IMAGE_RECIPE.tar
  if [ ! -s "$tar" ]; then
    say "building busybox rootfs"
    rm -f "$IMAGE_DIR"/busybox-r*.tar # an older recipe's
    local d; d=$(mktemp -d)
    mkdir -p "$d"/{bin,etc,tmp,data,www,proc,sys,dev,root}
    cp /bin/busybox "$d/bin/busybox"
    local a
    for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$d/bin/$a"; done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$d/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$d/etc/group"
    chmod 1777 "$d/tmp"
    tar -C "$d" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
    rm -rf "$d"
  fi
  echo "$tar"
}

# PostgreSQL 15 from Debian's packages, with an entrypoint that initialises an empty data directory.
postgres_rootfs_tar() {
  local entry=$FLOCKER_ROOT/scripts/images/postgres-entrypoint.sh
  local tar
  tar=$IMAGE_DIR/postgres-r$IMAGE_RECIPE-$(md5sum < "$entry" | cut -c1-8).tar
  if [ ! -s "$tar" ]; then
    rm -f "$IMAGE_DIR"/postgres-r*.tar # an older recipe's
    say "building PostgreSQL rootfs with debootstrap (about a minute, cached afterwards)"
    local mirror d
    mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
    mirror=${mirror:-http://deb.debian.org/debian}
    d=$(mktemp -d /var/tmp/flocker-pgroot.XXXXXX)
    debootstrap --variant=minbase --include=postgresql bookworm "$d" "$mirror" >"$LOG_DIR/debootstrap.log" 2>&1 \
      || { rm -rf "$d"; die "debootstrap failed; see $LOG_DIR/debootstrap.log"; }
    install -m 0755 "$entry" "$d/usr/local/bin/flocker-postgres-entrypoint"
    rm -rf "$d"/var/cache/apt/archives/*.deb "$d"/var/lib/apt/lists/*
    # Half the image is what the server never loads here: LLVM (and Z3, which only LLVM uses) for query JIT, whose
    # provider PostgreSQL skips when llvmjit.so is absent (JIT is an optimisation of long queries only), the messages'
    # translations, documentation and manual pages. 443 MB -> ~200 MB, loaded into every lab host's dockerd.
    rm -rf "$d"/usr/lib/x86_64-linux-gnu/libLLVM-* "$d"/usr/lib/x86_64-linux-gnu/libz3.so* "$d"/usr/lib/postgresql/*/lib/llvmjit* \
      "$d"/usr/lib/postgresql/*/lib/bitcode "$d"/usr/share/locale "$d"/usr/share/doc "$d"/usr/share/man "$d"/usr/share/info
    tar -C "$d" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
    rm -rf "$d"
  fi
  echo "$tar"
}

# import_image DOCKER_HOST_URI NAME TAR [changes...]: imports TAR as NAME unless that daemon has it made with
# the same changes (a label carries their digest, so a changed recipe re-imports).
ROOT_DOCKER=unix:///var/run/docker.sock

# Imports an image into this machine's own dockerd; other dockerds (the lab's hosts) load the very same image from a
# saved copy, so it has one image ID everywhere, as if pulled from a registry (Swarm then never tries to pull it:
# services name it by that ID).
import_image() {
  local host=$1 name=$2 tar=$3; shift 3
  local recipe have
  recipe=$(printf '%s\n' "$(basename "$tar")" "$@" | md5sum | cut -c1-12)
  have=$(DOCKER_HOST=$host $DOCKER image inspect -f '{{index .Config.Labels "dev.flocker.recipe"}}' "$name" 2>/dev/null || true)
  [ "$have" = "$recipe" ] && return
  if [ "$host" != "$ROOT_DOCKER" ]; then
    import_image "$ROOT_DOCKER" "$name" "$tar" "$@"
    local file saved; file=$(tr '/:' '__' <<<"$name"); saved="$IMAGE_DIR/$file-$recipe.docker.tar"
    if [ ! -s "$saved" ]; then
      $DOCKER -H "$ROOT_DOCKER" save -o "$saved.tmp" "$name" && mv "$saved.tmp" "$saved"
      find "$IMAGE_DIR" -maxdepth 1 -name "$file-*.docker.tar" ! -path "$saved" -delete # an older recipe's
    fi
    DOCKER_HOST=$host $DOCKER load -q -i "$saved" >/dev/null
    return
  fi
  local args=(--change "LABEL dev.flocker.recipe=$recipe") c
  for c in "$@"; do args+=(--change "$c"); done
  DOCKER_HOST=$host $DOCKER import "${args[@]}" "$tar" "$name" >/dev/null
}

# import_images DOCKER_HOST_URI [busybox] [postgres]: both when none is named.
import_images() {
  local host=$1; shift
  local want=" ${*:-busybox postgres} "
  [[ $want == *" busybox "* ]] && import_image "$host" "$BUSYBOX_IMAGE" "$(busybox_rootfs_tar)" 'CMD ["/bin/sh"]' 'WORKDIR /'
  [[ $want == *" postgres "* ]] || return 0
  import_image "$host" "$POSTGRES_IMAGE" "$(postgres_rootfs_tar)" \
    'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV PGDATA=/var/lib/postgresql/data' 'EXPOSE 5432' \
    'ENTRYPOINT ["/usr/local/bin/flocker-postgres-entrypoint"]' 'CMD ["postgres"]'
}

main() {
  local t0=$SECONDS
  if [ "${1:-}" = "--import-images" ]; then shift; import_images "$@"; return; fi
  say "setting up host (idempotent)"
  install_packages
  start_zfs
  start_dockerd
  import_images "$ROOT_DOCKER"
  info "images: $BUSYBOX_IMAGE, $POSTGRES_IMAGE"
  say "host ready in $((SECONDS - t0)) s"
}
main "$@"
