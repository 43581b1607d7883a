#!/bin/bash
# quickstart.sh: the README's first command.  Installs what is missing,
# builds opentoe, validates the example component document and runs it
# (its log folder goes to a temporary directory).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh"
"$top/scripts/build.sh"
doc=${1:-$top/examples/hello-world.yml}
echo "+ opentoe validate $doc"
"$top/build/opentoe" validate "$doc"
logs=$(mktemp -d)
echo "+ opentoe run --documents $doc --log-directory $logs"
"$top/build/opentoe" run --documents "$doc" --log-directory "$logs" --state-directory "$logs/state"
echo "+ cat $logs/TOE_*/console.log"
cat "$logs"/TOE_*/console.log
