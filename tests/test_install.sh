#!/bin/sh
# Installs a build of gsgd into a temporary prefix and checks it as a user
# would meet it: the files are there, the shared library exports only the
# public API and never prints or exits, and a project outside the tree
# (tests/consumer, plus the examples) builds and runs against it, both with
# find_package(gsgd) and with pkg-config.
# Usage: test_install.sh BUILD_DIR SOURCE_DIR LIBDIR CMAKE CC [FLAGS]
# FLAGS go to every compile and link (a sanitizer build's -fsanitize=...).
set -eu
build=$1 src=$2 libdir=$3 cmake=$4 cc=$5 extra=${6:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gsgd-install-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() { echo "test_install: $*" >&2; exit 1; }

"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" || fail "install failed"
for f in include/gsgd.h "$libdir/libgsgd.so" "$libdir/libgsgd.a" \
    "$libdir/cmake/gsgd/gsgdConfig.cmake" "$libdir/cmake/gsgd/gsgdConfigVersion.cmake" \
    "$libdir/cmake/gsgd/gsgdTargets.cmake" "$libdir/pkgconfig/gsgd.pc" \
    share/gsgd/fortran/gsgd.f90 bin/gsgd; do
    [ -e "$prefix/$f" ] || fail "missing $f"
done
so=$(readlink -f "$prefix/$libdir/libgsgd.so")
case $so in *libgsgd.so.*.*.*) ;; *) fail "libgsgd.so points to $so, not a versioned file" ;; esac

# Visibility: every exported symbol is gsgd_* and declared in gsgd.h.
nm -D --defined-only "$so" | awk '{print $3}' >"$tmp/exported"
[ -s "$tmp/exported" ] || fail "libgsgd.so exports nothing"
while read -r sym; do
    case $sym in gsgd_*) ;; *) fail "libgsgd.so exports $sym (not gsgd_*)" ;; esac
    grep -q "GSGD_API.*[ *]$sym(" "$src/include/gsgd.h" || fail "$sym is exported but not in gsgd.h"
done <"$tmp/exported"
# The library never writes to stdout/stderr or ends the process.
if nm -D --undefined-only "$so" |
    grep -Ew '(printf|puts|putchar|perror|fputs|fprintf|vprintf|vfprintf|exit|_exit|abort)' ||
    nm -D --undefined-only "$so" | grep -E '__(v?f?printf)_chk'; then
    # nvcc gives every non-static __device__ function a host stub that calls
    # exit(): device helpers in kernels/ must be static.
    fail "libgsgd.so calls the functions above; the library must return statuses instead" \
        "(from a .cu file? make its __device__ helpers static)"
fi
echo "test_install: $(wc -l <"$tmp/exported") symbols exported, all gsgd_* and declared in gsgd.h"

# find_package(gsgd): tests/consumer (shared and static) and the examples.
CFLAGS=$extra FFLAGS=$extra LDFLAGS=$extra "$cmake" -S "$src/tests/consumer" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release -DGSGD_EXAMPLES_DIR="$src/examples" >"$tmp/cm.log" 2>&1 ||
    { cat "$tmp/cm.log"; fail "configuring tests/consumer failed"; }
"$cmake" --build "$tmp/cm" -j2 >"$tmp/cm-build.log" 2>&1 ||
    { cat "$tmp/cm-build.log"; fail "building tests/consumer failed"; }
"$tmp/cm/consumer" && "$tmp/cm/consumer_static" || fail "tests/consumer failed"
"$tmp/cm/embed" "$tmp/c.bin" || fail "examples/c/embed.c (find_package) failed"
if [ -x "$tmp/cm/train_fortran" ]; then
    "$tmp/cm/train_fortran" "$tmp/f.bin" || fail "examples/fortran/train.f90 failed"
    cmp -s "$tmp/c.bin" "$tmp/f.bin" || fail "Fortran and C examples trained different parameters"
    echo "test_install: installed Fortran module: same parameters as C"
fi

# pkg-config: the same sources, compiled by hand as README tells users.
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
flags=$(pkg-config --cflags --libs gsgd) || fail "pkg-config does not find gsgd"
rpath=-Wl,-rpath,$(pkg-config --variable=libdir gsgd)
[ -f "$(pkg-config --variable=fortran_source gsgd)" ] || fail "pkg-config's fortran_source is wrong"
# shellcheck disable=SC2086 # flags are words
"$cc" -Wall -Wextra -Werror $extra "$src/tests/consumer/main.c" $flags "$rpath" -o "$tmp/pc_consumer" &&
    "$tmp/pc_consumer" || fail "pkg-config consumer failed"
# shellcheck disable=SC2086
"$cc" -Wall -Wextra $extra "$src/examples/c/embed.c" $flags "$rpath" -o "$tmp/pc_embed" &&
    "$tmp/pc_embed" "$tmp/pc.bin" || fail "pkg-config build of examples/c/embed.c failed"
cmp -s "$tmp/c.bin" "$tmp/pc.bin" || fail "the two builds of embed.c trained differently"
echo "test_install: ok (find_package and pkg-config)"
