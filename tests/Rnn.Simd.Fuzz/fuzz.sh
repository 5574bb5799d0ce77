#!/usr/bin/env bash
# Coverage-guided fuzzing of one reader with AFL++ and SharpFuzz (README.md beside this file).
#   tests/Rnn.Simd.Fuzz/fuzz.sh TARGET [afl-fuzz options, e.g. -E 1000000 or -V 3600]
# TARGET: model | checkpoint | safetensors | csv | csv-tool. Needs afl-fuzz (Debian: apt-get install -y afl++) and the SharpFuzz
# instrumenter (dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0). Work files go to
# $FUZZ_WORK (default /tmp/rnn-simd-fuzz): bin/ (the instrumented build), out-TARGET/ (afl-fuzz's findings).
set -euo pipefail
target=${1:?usage: fuzz.sh TARGET [afl-fuzz options]}
shift
here=$(cd "$(dirname "$0")" && pwd)
work=${FUZZ_WORK:-/tmp/rnn-simd-fuzz}
bin=$work/bin
export PATH="$PATH:$HOME/.dotnet/tools"

# A fresh build each time: SharpFuzz rewrites the assemblies in place and refuses to instrument one twice.
rm -rf "$bin"
dotnet publish "$here" -c Release -o "$bin" --nologo -v quiet
# The library, the tool (its CSV reader) and Sep (which that reader drives) report coverage; the harness does not.
for dll in Rnn.Simd.dll rnn-simd.dll Sep.dll; do sharpfuzz "$bin/$dll"; done

dict=()
case "$target" in
  csv|csv-tool) dict=(-x "$here/csv.dict") ;;
  safetensors) dict=(-x "$here/safetensors.dict") ;;
esac

# The target is the dotnet host, not an instrumented binary (AFL_SKIP_BIN_CHECK); the machine is shared, so no core
# pinning (AFL_NO_AFFINITY) and no CPU-governor check; crashes are reported by SharpFuzz, not by core dumps.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_NO_UI=${AFL_NO_UI:-1}
exec afl-fuzz -i "$here/corpus/$target" -o "$work/out-$target" -t 5000 -m none "${dict[@]}" "$@" \
  -- dotnet "$bin/Rnn.Simd.Fuzz.dll" "$target"
