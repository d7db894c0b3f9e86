// Deno FFI bindings to the few libc calls the OS adapters need (fds, ioctl, poll, sockets, errno).
//
// The library is opened lazily on first use, so importing this module is harmless on systems
// without glibc. Every call is synchronous except `poll`, which also exists as a nonblocking
// variant (`pollAsync`, run on a helper thread, returns a Promise) for blocking waits.

/** The FFI symbol table (signatures follow the C prototypes on 64-bit Linux). */
const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  // ssize_t results are declared i32: byte counts here are far below 2^31 and -1 stays -1 in the
  // low half of the return register, while an isize result would cost a BigInt per call.
  // size_t length parameters are declared u32 for the same reason (a usize parameter takes a
  // BigInt, or a Number through the slow call path): lengths stay below 2^31, and a u32 argument
  // reaches the C function zero-extended to the full register on x86-64 and aarch64 (32-bit
  // register writes clear the upper half; libffi widens u32 arguments explicitly).
  read: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  /** `ioctl(fd, request, void *arg)`. */
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  /** `ioctl(fd, request, unsigned long value)` for requests taking an integer argument. */
  ioctlInt: { name: "ioctl", parameters: ["i32", "u64", "u64"], result: "i32" },
  /** `poll(fds, nfds, timeoutMs)`, synchronous: use only with timeout 0. */
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  /** `poll` run on a helper thread; the JS thread keeps running while it waits. */
  pollAsync: {
    name: "poll",
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
    nonblocking: true,
  },
  /** `ppoll(fds, nfds, &timespec, NULL)`, synchronous: a bounded wait with a sub-ms timeout. */
  ppoll: { parameters: ["buffer", "u64", "buffer", "pointer"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "u32", "i32", "buffer", "u32"], result: "i32" },
  recvfrom: { parameters: ["i32", "buffer", "u32", "i32", "buffer", "buffer"], result: "i32" },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

/** The bound libc functions (see {@link libc}). */
export type LibcSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** `open` flag: read and write. */
export const O_RDWR = 0o2;
/** `open` flag: nonblocking I/O. */
export const O_NONBLOCK = 0o4000;
/** `open` flag: close on exec. */
export const O_CLOEXEC = 0o2000000;
/** `fcntl` command: get file status flags. */
export const F_GETFL = 3;
/** `fcntl` command: set file status flags. */
export const F_SETFL = 4;
/** `eventfd` flag: nonblocking. */
export const EFD_NONBLOCK = 0o4000;
/** `eventfd` flag: close on exec. */
export const EFD_CLOEXEC = 0o2000000;
/** `poll` event: data to read. */
export const POLLIN = 0x001;
/** `poll` event: writable. */
export const POLLOUT = 0x004;
/** `poll` revent: error. */
export const POLLERR = 0x008;
/** `poll` revent: hang-up. */
export const POLLHUP = 0x010;
/** `poll` revent: fd not open. */
export const POLLNVAL = 0x020;
/** Address family IPv4. */
export const AF_INET = 2;
/** Address family IPv6. */
export const AF_INET6 = 10;
/** Socket type datagram. */
export const SOCK_DGRAM = 2;
/** Socket type flag: nonblocking. */
export const SOCK_NONBLOCK = 0o4000;
/** Socket type flag: close on exec. */
export const SOCK_CLOEXEC = 0o2000000;
/** `recv*` flag: do not block. */
export const MSG_DONTWAIT = 0x40;

/** errno: operation not permitted. */
export const EPERM = 1;
/** errno: no such file or directory. */
export const ENOENT = 2;
/** errno: interrupted system call. */
export const EINTR = 4;
/** errno: no such device or address. */
export const ENXIO = 6;
/** errno: bad file descriptor. */
export const EBADF = 9;
/** errno: try again (would block). */
export const EAGAIN = 11;
/** errno: permission denied. */
export const EACCES = 13;
/** errno: device or resource busy. */
export const EBUSY = 16;
/** errno: no such device. */
export const ENODEV = 19;
/** errno: invalid argument. */
export const EINVAL = 22;

/** Candidate file names of the C library, tried in order. */
const LIBC_NAMES = [
  "libc.so.6",
  "/lib/x86_64-linux-gnu/libc.so.6",
  "/lib/aarch64-linux-gnu/libc.so.6",
];

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;
let errnoView: Deno.UnsafePointerView | undefined;

/**
 * The libc functions, opening the library on first use.
 * @throws Error naming the problem when not on Linux or when libc cannot be loaded.
 */
export function libc(): LibcSymbols {
  if (lib) return lib.symbols;
  if (Deno.build.os !== "linux") {
    throw new Error(
      `zt: libc FFI bindings are only implemented for Linux (this is ${Deno.build.os})`,
    );
  }
  let lastError: unknown;
  for (const name of LIBC_NAMES) {
    try {
      lib = Deno.dlopen(name, SYMBOLS);
      return lib.symbols;
    } catch (e) {
      lastError = e;
    }
  }
  throw new Error(`zt: cannot load the C library through FFI: ${String(lastError)}`);
}

/**
 * The calling thread's `errno`. Meaningful right after a failed synchronous call; after a
 * nonblocking call the error was set on another thread and cannot be read here.
 */
export function errno(): number {
  if (!errnoView) {
    const p = libc().__errno_location();
    if (p === null) return 0;
    errnoView = new Deno.UnsafePointerView(p);
  }
  return errnoView.getInt32(0);
}

/** The C library's message for an errno value (e.g. "Permission denied"). */
export function strerror(code: number): string {
  const p = libc().strerror(code);
  return p === null ? `errno ${code}` : Deno.UnsafePointerView.getCString(p);
}

/** A failed libc call: carries the call name and errno. */
export class LibcError extends Error {
  /** The errno value. */
  readonly errno: number;
  /** What was being done (e.g. "ioctl(TUNSETIFF)"). */
  readonly call: string;
  /**
   * @param call what was being done.
   * @param code the errno value.
   */
  constructor(call: string, code: number) {
    super(`${call}: ${strerror(code)} (errno ${code})`);
    this.name = "LibcError";
    this.call = call;
    this.errno = code;
  }
}

/** Throws a {@link LibcError} with the current errno when `result` is negative; else returns it. */
export function check(call: string, result: number | bigint): number {
  const r = Number(result);
  if (r < 0) throw new LibcError(call, errno());
  return r;
}

const encoder = new TextEncoder();

/** A NUL-terminated copy of `s` for passing as `const char *`. */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const b = encoder.encode(s);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}
