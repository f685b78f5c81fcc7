# The Windows cross-build's settings, sourced by scripts/test-windows and
# scripts/windows/*: Debian's Rust 1.96 (`rustc-web`, with the standard
# library's source from `rust-web-src`) builds the standard library for
# x86_64-pc-windows-gnu from source (-Zbuild-std: no Windows standard library
# is packaged for it), mingw-w64 links, Wine 8 runs the programs.
#
# rustup's shims come first on PATH and their toolchain has no Windows
# standard library: Debian's cargo, rustc and clippy are named by full path.
# RUSTC_BOOTSTRAP=1 (for -Zbuild-std) is set for this cross-build only.

export WINDOWS_TARGET=x86_64-pc-windows-gnu
export WINDOWS_CARGO=/usr/bin/cargo
export RUSTC=/usr/bin/rustc
export RUSTDOC=/usr/bin/rustdoc
export RUSTC_BOOTSTRAP=1
# The Linux build's folder, for the tests that run natively beside Wine.
export LINUX_CARGO_TARGET_DIR="${LINUX_CARGO_TARGET_DIR-${CARGO_TARGET_DIR:-}}"
# Its own target folder: the host's build scripts and proc macros are built
# by another compiler than the Linux build's.
export CARGO_TARGET_DIR="${WINDOWS_TARGET_DIR:-$PWD/target/windows}"
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
# mingw's gcc drives LLVM's linker (Debian's `lld`, which speaks MinGW's
# flags): GNU ld spends minutes on each large PE test program.
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUSTFLAGS="-C link-arg=-fuse-ld=lld"
export CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc
export CXX_x86_64_pc_windows_gnu=x86_64-w64-mingw32-g++
export AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar
export RC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-windres
# The `wine64` package puts nothing on PATH.
export WINE=/usr/lib/wine/wine64
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$WINE"
export WINEDEBUG=-all
# No window, no Mono or Gecko installer prompts when the prefix is made.
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d;bcryptprimitives=n,b"

# cargo for Windows: `wcargo build -p …` builds for the Windows target.
wcargo() {
  local subcommand="$1"
  shift
  "$WINDOWS_CARGO" "$subcommand" -Zbuild-std --target "$WINDOWS_TARGET" "$@"
}

# Where the Windows programs land.
windows_out() {
  printf '%s/%s/debug' "$CARGO_TARGET_DIR" "$WINDOWS_TARGET"
}
