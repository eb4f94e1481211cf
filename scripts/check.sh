#!/usr/bin/env bash
# check.sh [BUILD_DIR]: the habits CI enforces before any test runs:
#  - every tracked C file is formatted as the committed .clang-format says
#    (fix with: git ls-files '*.c' '*.h' | xargs clang-format -i);
#  - cppcheck finds nothing in the code the build compiles (its compile
#    database comes from BUILD_DIR, default build/).
# Suppressions are listed here, each with its reason; a finding in a single
# place is fixed or suppressed inline where it stands, with a comment.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}

unformatted=()
while IFS= read -r f; do
	clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done < <(git ls-files '*.c' '*.h')
if [ ${#unformatted[@]} -gt 0 ]; then
	echo "check: not formatted as .clang-format says (run clang-format -i on them):" >&2
	printf '  %s\n' "${unformatted[@]}" >&2
	exit 1
fi

# varFuncNullUB: NULL ends the variadic lists of the tests' helpers, as it
# does execl's; glibc's NULL is ((void *)0), pointer-sized on every target
# Cell builds for.
out=$(cppcheck --project="$build/compile_commands.json" -j "$(nproc)" \
	--library=scripts/cppcheck/jansson.cfg \
	--library=scripts/cppcheck/cmocka.cfg \
	--enable=warning,performance,portability --inline-suppr --quiet \
	--suppress=varFuncNullUB \
	--template='{file}:{line}: {severity} ({id}): {message}' 2>&1 || true)
if [ -n "$out" ]; then
	echo "check: cppcheck found:" >&2
	echo "$out" >&2
	exit 1
fi
echo "check: formatting and cppcheck clean"
