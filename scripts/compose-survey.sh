#!/usr/bin/env bash
# How many Compose files people already have would deploy unchanged, and what stops the others: reads every
# (docker-)compose.y(a)ml under DIR as flocker-deploy does (no cluster needed).
# Usage: scripts/compose-survey.sh DIR
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
[ $# -eq 1 ] || { echo "usage: scripts/compose-survey.sh DIR" >&2; exit 2; }
dir=$(readlink -f "$1")
run_test_main flocker-deploy dev.flocker.deploy.ComposeSurvey "$dir"
