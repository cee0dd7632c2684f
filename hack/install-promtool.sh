#!/usr/bin/env bash
# Installs promtool, which checks and unit-tests the alert rules in
# config/prometheus, from Debian's prometheus package (the machines this
# project builds on reach Debian's archive, not GitHub releases). A no-op when
# promtool is already on PATH.
set -euo pipefail
if command -v promtool >/dev/null 2>&1; then
  exit 0
fi
sudo=""
if [[ $(id -u) != 0 ]]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-promtool: need root or sudo to apt-get install prometheus" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-promtool: apt-get install prometheus (for promtool)" >&2
$sudo apt-get update -qq
# The package's service is not started: policy-rc.d-less containers may
# refuse, which is harmless here; only the promtool binary is used.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v promtool >/dev/null
