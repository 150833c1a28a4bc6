#!/usr/bin/env bash
# Headless Chromium for tests/test_report_browser.py and tests/test_serve_browser.py: installs
# Debian's chromium and chromium-driver, and fonts-noto-cjk (without a CJK font every Chinese
# character of the report and the workbench renders as a box), with apt-get when missing.
# Prints nothing on stdout (no settings to export); apt's chatter goes to stderr only when it fails.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
fc-list 2>/dev/null | grep -qi "noto sans cjk" || need+=(fonts-noto-cjk)
[ ${#need[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium.sh: apt-get not found; install ${need[*]} by hand" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo -n"
log=$(mktemp)
if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"; } >"$log" 2>&1; then
  echo "chromium.sh: could not install ${need[*]}:" >&2
  tail -n 5 "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
exit 0
