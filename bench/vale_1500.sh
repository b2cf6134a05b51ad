#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# vale_1500.sh - bench/vale_memif.sh with full-size frames: 1514 bytes
# (1500-byte MTU + Ethernet header; 1518 with FCS, as the rates print).
# Both sides print Gbit/s next to Mpps; the ratio is the same in either.
#
# usage: bench/vale_1500.sh [-n ROUNDS] [-t SECONDS]
exec bash "$(dirname "$0")/vale_memif.sh" -l 1514 "$@"
