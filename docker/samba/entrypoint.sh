#!/bin/sh
# Entrypoint of the lab Samba AD domain controller (docker/samba/Dockerfile).
#
# First start: provision the HOSP.TEST domain into the data volume and create
# Gatehouse's bind account. Every start: copy Samba's CA certificate into the
# shared CA volume as soon as Samba has written it (Gatehouse verifies LDAPS
# with it), then run samba in the foreground as PID 1.
#
# Environment:
#   SAMBA_ADMIN_PASSWORD  Administrator password; required on the first start.
#   SAMBA_BIND_PASSWORD   password of the bind account; when set on the first
#                         start, the account SAMBA_BIND_USER is created.
#   SAMBA_BIND_USER       bind account name (default gatehouse-svc).
# Both passwords must meet the AD complexity rules (at least 7 characters, and
# 3 of: upper case, lower case, digit, symbol). They are read on the first
# start only: change them later with samba-tool (see docker/README.md).
set -eu

DATA_DIR=/var/lib/samba-dc
# INVARIANT: nothing but this script's provisioning writes under TARGET, and
# MARKER is written only after provisioning succeeded. So a TARGET without
# MARKER is the remains of an interrupted first start, safe to delete.
TARGET="$DATA_DIR/domain"
MARKER="$DATA_DIR/.provisioned"
SMB_CONF="$TARGET/etc/smb.conf"
# Samba creates its self-signed CA, server key and certificate here when the
# LDAP server first starts ("tls cafile" default: tls/ca.pem in the private dir).
CA_SRC="$TARGET/private/tls/ca.pem"
CA_EXPORT_DIR=/var/lib/samba-ca
BIND_USER="${SAMBA_BIND_USER:-gatehouse-svc}"

log() {
  printf 'samba-entrypoint: %s\n' "$*" >&2
}

# Runs in an "if" condition, where "set -e" does not apply: every step
# checks its own status.
provision() {
  log "provisioning domain HOSP.TEST into $TARGET"
  samba-tool domain provision \
    --realm=HOSP.TEST \
    --domain=HOSP \
    --server-role=dc \
    --dns-backend=SAMBA_INTERNAL \
    --use-rfc2307 \
    --adminpass="$SAMBA_ADMIN_PASSWORD" \
    --host-name=dc1 \
    --targetdir="$TARGET" || return 1

  if [ -n "${SAMBA_BIND_PASSWORD:-}" ]; then
    log "creating bind account $BIND_USER"
    samba-tool user create "$BIND_USER" "$SAMBA_BIND_PASSWORD" \
      --configfile="$SMB_CONF" \
      --description="Gatehouse directory bind account (lab)" || return 1
    # A service account whose password expired (AD default: 42 days) would
    # silently break Gatehouse's directory sync.
    samba-tool user setexpiry "$BIND_USER" --noexpiry \
      --configfile="$SMB_CONF" || return 1
  else
    log "SAMBA_BIND_PASSWORD is not set: no bind account created"
  fi
}

# Copies the CA certificate once Samba has written it. Runs in the
# background: it outlives the exec below and ends after the copy (leaving one
# harmless <defunct> entry: samba does not reap children it did not start).
export_ca() {
  tmp="$CA_EXPORT_DIR/.ca.pem.tmp"
  while :; do
    if [ -s "$CA_SRC" ] \
      && cp "$CA_SRC" "$tmp" \
      && grep -q -- '-----END CERTIFICATE-----' "$tmp" \
      && chmod 0644 "$tmp" \
      && mv -f "$tmp" "$CA_EXPORT_DIR/ca.pem"; then
      log "CA certificate exported to $CA_EXPORT_DIR/ca.pem"
      return 0
    fi
    sleep 1
  done
}

mkdir -p "$DATA_DIR" "$CA_EXPORT_DIR" /run/samba

if [ ! -f "$MARKER" ]; then
  : "${SAMBA_ADMIN_PASSWORD:?must be set for the first start (domain provisioning)}"
  if [ -e "$TARGET" ]; then
    log "removing an unfinished provisioning from an earlier start"
    rm -rf "$TARGET"
  fi
  if ! provision; then
    rm -rf "$TARGET"
    log "provisioning failed (see above); check that both passwords meet the AD complexity rules"
    exit 1
  fi
  touch "$MARKER"
  log "domain provisioned"
fi

if [ ! -f "$SMB_CONF" ]; then
  log "$SMB_CONF is missing although $MARKER exists; remove the samba-data volume to provision again"
  exit 1
fi

export_ca &

log "starting samba"
exec samba -i --configfile="$SMB_CONF"
