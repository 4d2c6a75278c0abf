#!/usr/bin/env bash
# Re-render the PNG icon from the SVG source (needs rsvg-convert: apt-get install librsvg2-bin).
# The PNG is committed, so building or installing never needs this tool.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rsvg-convert -w 256 -h 256 "$here/nudge-local.svg" -o "$here/nudge-local.png"
