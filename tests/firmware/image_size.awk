# Sums the input sections a GNU ld map file shows kept from one archive (-v lib=NAME.a):
# .text*, .rodata*, .data* and .bss* (docs/embedded.md, tools/firmware.sh).
/^Linker script and memory map/ { on = 1; next }
!on { next }
function hex(s,   i, n, c) { # "0x1a3" -> 419 (POSIX awk has no strtonum)
  n = 0
  s = tolower(substr(s, 3))
  for (i = 1; i <= length(s); i++) {
    c = index("0123456789abcdef", substr(s, i, 1))
    n = n * 16 + c - 1
  }
  return n
}
function add(name, size, file) {
  if (index(file, lib "(") == 0) return
  size = hex(size)
  if (name ~ /^\.text/) text += size
  else if (name ~ /^\.rodata/) rodata += size
  else if (name ~ /^\.data/) data += size
  else if (name ~ /^\.bss/) bss += size
}
/^ \.[^ ]+$/ { pending = $1; next }
pending != "" && /^ +0x/ { add(pending, $2, $3); pending = ""; next }
/^ \.[^ ]+ +0x/ { add($1, $3, $4) }
{ pending = "" }
END { printf "text %d rodata %d data %d bss %d\n", text, rodata, data, bss }
