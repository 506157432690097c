"""The lab's guest: a 4 KiB multiboot image that dirties a range of its RAM.

QEMU boots it with ``-kernel FILE``. It is written from Python (no compiler,
no download): the machine code below is encoded by hand, one instruction a
line, and the parameters live in a small data block at a fixed offset.

What the guest does, in 32-bit protected mode with paging off:

1. loads its own GDT (flat code 0x08, flat data 0x10) and an IDT whose every
   vector points to one handler that sends EOI to both PICs and returns;
2. masks every IRQ but IRQ0 and programs PIT channel 0 to ``TICK_HZ``;
3. loops for ever: adds 1 to ``TICKS_ADDR``, increments the first dword of the
   next ``pages_per_tick`` pages of the range (round robin; ``PASSES_ADDR``
   counts full sweeps), then ``hlt`` until the next timer tick.

Sleeping in ``hlt`` is what keeps an idle lab cheap: a guest with nothing to
dirty costs the host one wake-up per tick, not a spinning vCPU. Without
``hlt`` (``FULL_SPEED``) the guest sweeps the whole range as fast as TCG runs,
which makes a migration that cannot converge without help.

SeaBIOS leaves the master PIC at vector base 0x08, so IRQ0 arrives on vector
8 (the double-fault vector): harmless, since every vector runs the same
handler and no exception is expected.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path

LOAD_ADDR = 0x100000
"""Where the image is loaded and linked (1 MiB, as multiboot loaders expect)."""
TICKS_ADDR = 0x500
"""Physical address of a u32 incremented once per loop (once per timer tick
unless the guest runs at full speed): read it with HMP ``xp /1wx 0x500``."""
PASSES_ADDR = 0x504
"""Physical address of a u32 incremented after each full sweep of the range."""
RANGE_START = 0x200000
"""The dirtied range starts at 2 MiB, above the image and the multiboot info."""
RESERVED_MIB = 4
"""RAM a VM keeps beyond the dirtied range (low memory, image, firmware tables)."""
TICK_HZ = 100
"""Timer rate: the dirty rate is paced in batches of pages per tick."""
PAGE = 4096
PIT_HZ = 1_193_182
FULL_SPEED = math.inf
"""``dirty_rate_mib_s`` for a guest that never sleeps: it sweeps its whole range
again and again, as fast as the host allows."""

STACK_TOP = 0x7C00  # free conventional memory below the classic boot sector
MULTIBOOT_MAGIC = 0x1BADB002
MULTIBOOT_AOUT_KLUDGE = 0x00010000  # addresses come from the header, not ELF
PARAMS_OFFSET = 0x20
"""File offset of the parameter block: range_start, range_end, pages_per_tick,
halt (u32 each), then the PIT divisor (u16)."""
IMAGE_SIZE = 0x1000

# Layout of the image (file offsets; add LOAD_ADDR for the address).
_GDT = 0x40
_GDT_DESC = 0x58
_IDT_DESC = 0x60
_CODE = 0x80
_IDT = 0x800


@dataclass(frozen=True)
class GuestSpec:
    """What a guest dirties and how fast."""

    dirty_mib: float = 32
    """Size of the RAM range the guest keeps writing to."""
    dirty_rate_mib_s: float = 64
    """MiB written per second; 0 for an idle guest, ``FULL_SPEED`` for no pause."""

    @property
    def page_count(self) -> int:
        return int(self.dirty_mib * 1024 * 1024) // PAGE

    @property
    def pages_per_tick(self) -> int:
        """Pages dirtied per timer tick (the whole range at full speed)."""
        if self.page_count == 0 or self.dirty_rate_mib_s == 0:
            return 0
        if math.isinf(self.dirty_rate_mib_s):
            return self.page_count
        pages = round(self.dirty_rate_mib_s * 1024 * 1024 / PAGE / TICK_HZ)
        return max(1, pages)  # a tiny positive rate still dirties something

    @property
    def halts(self) -> bool:
        return not math.isinf(self.dirty_rate_mib_s)

    def check(self, mem_mib: int) -> None:
        """Raise ValueError when the spec cannot run in ``mem_mib`` of RAM."""
        if self.dirty_mib < 0:
            raise ValueError(f"dirty_mib must be 0 or more, not {self.dirty_mib}")
        if self.dirty_rate_mib_s < 0 or math.isnan(self.dirty_rate_mib_s):
            raise ValueError(f"dirty_rate_mib_s must be 0 or more, not {self.dirty_rate_mib_s}")
        if self.dirty_mib > mem_mib - RESERVED_MIB:
            raise ValueError(
                f"dirty_mib {self.dirty_mib:g} does not fit in {mem_mib} MiB of RAM "
                f"(at most {mem_mib - RESERVED_MIB} MiB)"
            )

    def describe(self) -> str:
        if self.pages_per_tick == 0:
            return "idle guest (dirties nothing)"
        rate = "as fast as it can" if not self.halts else f"at {self.dirty_rate_mib_s:g} MiB/s"
        return f"dirties {self.dirty_mib:g} MiB {rate}"


def _code(at: dict[str, int]) -> list[tuple[str | None, bytes, str]]:
    """The program as (label, bytes, assembly) rows; ``at`` maps labels to addresses.

    Jumps are relative to the end of their own instruction, so this is
    called twice: once to learn where the labels fall, once to encode.
    """

    def u32(value: int) -> bytes:
        return struct.pack("<I", value & 0xFFFFFFFF)

    def rel8(label: str, end: int) -> bytes:
        return struct.pack("<b", at.get(label, end) - end)

    p = LOAD_ADDR + PARAMS_OFFSET
    rows: list[tuple[str | None, bytes, str]] = []
    here = LOAD_ADDR + _CODE

    def emit(label: str | None, code: bytes | None, asm: str, *, jump: tuple[bytes, str] | None = None) -> None:
        nonlocal here
        if jump is not None:
            opcode, target = jump
            code = opcode + rel8(target, here + len(opcode) + 1)
        assert code is not None
        rows.append((label, code, asm))
        here += len(code)

    emit("entry", b"\xFA", "cli")
    emit(None, b"\x0F\x01\x15" + u32(LOAD_ADDR + _GDT_DESC), "lgdt [gdt_desc]")
    emit(None, b"\xEA" + u32(at.get("flat", 0)) + b"\x08\x00", "jmp 0x08:flat  ; reload CS from our GDT")
    emit("flat", b"\x66\xB8\x10\x00", "mov ax, 0x10")
    emit(None, b"\x8E\xD8", "mov ds, ax")
    emit(None, b"\x8E\xC0", "mov es, ax")
    emit(None, b"\x8E\xD0", "mov ss, ax")
    emit(None, b"\x8E\xE0", "mov fs, ax")
    emit(None, b"\x8E\xE8", "mov gs, ax")
    emit(None, b"\xBC" + u32(STACK_TOP), "mov esp, STACK_TOP")
    emit(None, b"\x0F\x01\x1D" + u32(LOAD_ADDR + _IDT_DESC), "lidt [idt_desc]")
    emit(None, b"\x31\xC0", "xor eax, eax")
    emit(None, b"\xA3" + u32(TICKS_ADDR), "mov [TICKS_ADDR], eax")
    emit(None, b"\xA3" + u32(PASSES_ADDR), "mov [PASSES_ADDR], eax")
    emit(None, b"\xB0\xFE", "mov al, 0xFE  ; master PIC: only IRQ0 (timer)")
    emit(None, b"\xE6\x21", "out 0x21, al")
    emit(None, b"\xB0\xFF", "mov al, 0xFF  ; slave PIC: nothing")
    emit(None, b"\xE6\xA1", "out 0xA1, al")
    emit(None, b"\xB0\x34", "mov al, 0x34  ; PIT channel 0, lo/hi byte, mode 2")
    emit(None, b"\xE6\x43", "out 0x43, al")
    emit(None, b"\x66\xA1" + u32(p + 16), "mov ax, [divisor]")
    emit(None, b"\xE6\x40", "out 0x40, al")
    emit(None, b"\x88\xE0", "mov al, ah")
    emit(None, b"\xE6\x40", "out 0x40, al")
    emit(None, b"\x8B\x1D" + u32(p + 0), "mov ebx, [range_start]")
    emit(None, b"\x8B\x3D" + u32(p + 4), "mov edi, [range_end]")
    emit(None, b"\x89\xDE", "mov esi, ebx  ; next page to dirty")
    emit(None, b"\xFB", "sti")
    emit("tick", b"\xFF\x05" + u32(TICKS_ADDR), "inc dword [TICKS_ADDR]")
    emit(None, b"\x8B\x0D" + u32(p + 8), "mov ecx, [pages_per_tick]")
    emit(None, None, "jecxz wait  ; idle guest", jump=(b"\xE3", "wait"))
    emit("dirty", b"\xFF\x06", "inc dword [esi]  ; the write that dirties the page")
    emit(None, b"\x81\xC6" + u32(PAGE), "add esi, 4096")
    emit(None, b"\x39\xFE", "cmp esi, edi")
    emit(None, None, "jb next", jump=(b"\x72", "next"))
    emit(None, b"\x89\xDE", "mov esi, ebx  ; wrap to the start of the range")
    emit(None, b"\xFF\x05" + u32(PASSES_ADDR), "inc dword [PASSES_ADDR]")
    emit("next", None, "loop dirty", jump=(b"\xE2", "dirty"))
    emit("wait", b"\x83\x3D" + u32(p + 12) + b"\x00", "cmp dword [halt], 0")
    emit(None, None, "je tick  ; full speed: no pause", jump=(b"\x74", "tick"))
    emit(None, b"\xF4", "hlt  ; sleep until the next timer tick")
    emit(None, None, "jmp tick", jump=(b"\xEB", "tick"))
    emit("handler", b"\x50", "push eax  ; every vector lands here")
    emit(None, b"\xB0\x20", "mov al, 0x20  ; non-specific EOI")
    emit(None, b"\xE6\xA0", "out 0xA0, al")
    emit(None, b"\xE6\x20", "out 0x20, al")
    emit(None, b"\x58", "pop eax")
    emit(None, b"\xCF", "iret")
    return rows


def assemble() -> tuple[bytes, dict[str, int]]:
    """The machine code and the address of each label."""
    at: dict[str, int] = {}
    for _ in range(2):
        here = LOAD_ADDR + _CODE
        for label, code, _asm in _code(at):
            if label:
                at[label] = here
            here += len(code)
    code = b"".join(code for _label, code, _asm in _code(at))
    return code, at


def listing() -> str:
    """The program as an assembly listing (address, bytes, instruction)."""
    _, at = assemble()
    here = LOAD_ADDR + _CODE
    lines = []
    for label, code, asm in _code(at):
        if label:
            lines.append(f"{label}:")
        lines.append(f"  {here:08x}  {code.hex(' '):<24}  {asm}")
        here += len(code)
    return "\n".join(lines)


def _gate(handler: int) -> bytes:
    """A present, ring-0, 32-bit interrupt gate to ``handler`` in segment 0x08."""
    return struct.pack("<HHHH", handler & 0xFFFF, 0x08, 0x8E00, handler >> 16)


def guest_image(spec: GuestSpec) -> bytes:
    """The whole image for ``spec``: header, parameters, tables and code."""
    code, at = assemble()
    image = bytearray(IMAGE_SIZE)
    header = struct.pack(
        "<III5I",
        MULTIBOOT_MAGIC,
        MULTIBOOT_AOUT_KLUDGE,
        -(MULTIBOOT_MAGIC + MULTIBOOT_AOUT_KLUDGE) & 0xFFFFFFFF,
        LOAD_ADDR,  # header_addr: the header is the first thing in the file
        LOAD_ADDR,  # load_addr
        LOAD_ADDR + IMAGE_SIZE,  # load_end_addr
        0,  # bss_end_addr: no bss
        at["entry"],
    )
    image[0 : len(header)] = header
    pages = spec.page_count
    params = struct.pack(
        "<IIIIH",
        RANGE_START,
        RANGE_START + pages * PAGE,
        spec.pages_per_tick,
        1 if spec.halts else 0,
        round(PIT_HZ / TICK_HZ),
    )
    image[PARAMS_OFFSET : PARAMS_OFFSET + len(params)] = params
    gdt = struct.pack("<QQQ", 0, 0x00CF9A000000FFFF, 0x00CF92000000FFFF)  # null, code, data
    image[_GDT : _GDT + len(gdt)] = gdt
    image[_GDT_DESC : _GDT_DESC + 6] = struct.pack("<HI", len(gdt) - 1, LOAD_ADDR + _GDT)
    image[_IDT_DESC : _IDT_DESC + 6] = struct.pack("<HI", 256 * 8 - 1, LOAD_ADDR + _IDT)
    assert _CODE + len(code) <= _IDT, "the code grew into the IDT"
    image[_CODE : _CODE + len(code)] = code
    image[_IDT : _IDT + 256 * 8] = _gate(at["handler"]) * 256
    return bytes(image)


def write_guest(path: str | Path, spec: GuestSpec) -> Path:
    """Write the image for ``spec`` to ``path`` (for ``-kernel``)."""
    path = Path(path)
    path.write_bytes(guest_image(spec))
    return path
