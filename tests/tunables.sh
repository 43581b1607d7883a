#!/bin/sh
# tunables.sh: the Tunables table of opentoe(1) against the code (names
# both ways, and the defaults the code spells out), and the AWS_*
# variables against the page's ENVIRONMENT section.  TAP output from
# scripts/check-tunables.py.
exec python3 "$top_srcdir/scripts/check-tunables.py" --root "$top_srcdir"
