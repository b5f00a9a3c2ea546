package dev.gatehouse.runner;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The seccomp filter a {@code network: false} job runs under: socket(2) in the {@code AF_UNIX}
 * domain fails with EACCES, so a job cannot connect to a host service's Unix socket at any path it
 * can read (the network namespace only isolates abstract sockets). Generated here as a classic-BPF
 * program, the format bubblewrap's {@code --seccomp FD} loads (seccomp(2), SECCOMP_SET_MODE_FILTER:
 * an array of {@code struct sock_filter {u16 code; u8 jt; u8 jf; u32 k}} in native byte order).
 *
 * <p>What the program refuses, per the ABI the system call arrives with ({@code
 * seccomp_data.arch}):
 *
 * <ul>
 *   <li>{@code socket(AF_UNIX, …)}: EACCES. Only the low 32 bits of the domain are compared: the
 *       kernel takes it as an int, so high bits set by the caller must not bypass the check.
 *   <li>{@code socketpair(AF_UNIX, SOCK_DGRAM, …)}: EACCES. A datagram socket from a pair can still
 *       sendto(2) or sendmsg(2) to any socket path (unix(7)); stream and seqpacket pairs are
 *       connected to each other only (connect(2) fails with EISCONN) and stay allowed.
 *   <li>io_uring_setup, io_uring_enter, io_uring_register: ENOSYS. io_uring's IORING_OP_SOCKET and
 *       IORING_OP_CONNECT (Linux 5.19+) are not system calls, so seccomp never sees them; programs
 *       fall back to ordinary system calls on ENOSYS.
 *   <li>On the i386 ABI, socketcall(2)'s SYS_SOCKET and SYS_SOCKETPAIR: EACCES (their arguments are
 *       in user memory, out of the filter's reach); socket(2) and socketpair(2) as above.
 *   <li>x32 system calls ({@code nr & 0x40000000} with AUDIT_ARCH_X86_64) and any architecture not
 *       listed below: the process is killed (SECCOMP_RET_KILL_PROCESS, which kernels before 4.14
 *       treat as SECCOMP_RET_KILL, the thread), as libseccomp does for a foreign architecture.
 * </ul>
 *
 * <p>Architectures: x86_64 (with its i386 compat ABI) and aarch64 (with its 32-bit ARM EABI compat
 * ABI). The system call numbers are those of the kernel's tables (arch/x86/entry/syscalls/,
 * include/uapi/asm-generic/unistd.h, arch/arm/tools/syscall.tbl); the io_uring calls share one
 * number everywhere (425-427). On any other host architecture {@link #forHost()} returns null and
 * {@code network: false} jobs are refused (fail closed).
 */
final class SeccompFilter {
  // linux/filter.h, linux/bpf_common.h
  private static final int BPF_LD_W_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
  private static final int BPF_JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
  private static final int BPF_JSET_K = 0x45; // BPF_JMP | BPF_JSET | BPF_K
  private static final int BPF_AND_K = 0x54; // BPF_ALU | BPF_AND | BPF_K
  private static final int BPF_RET_K = 0x06; // BPF_RET | BPF_K

  // linux/seccomp.h: struct seccomp_data {int nr; u32 arch; u64 instruction_pointer; u64 args[6]}
  private static final int NR = 0;
  private static final int ARCH = 4;
  // The low 32 bits of args[0] and args[1]: every architecture here is little-endian.
  private static final int ARG0 = 16;
  private static final int ARG1 = 24;

  static final int RET_KILL_PROCESS = 0x80000000;
  static final int RET_ALLOW = 0x7fff0000;
  private static final int RET_ERRNO = 0x00050000;
  static final int EACCES = 13;
  static final int ENOSYS = 38;

  // linux/audit.h
  static final int AUDIT_ARCH_X86_64 = 0xC000003E;
  static final int AUDIT_ARCH_I386 = 0x40000003;
  static final int AUDIT_ARCH_AARCH64 = 0xC00000B7;
  static final int AUDIT_ARCH_ARM = 0x40000028;
  private static final int X32_SYSCALL_BIT = 0x40000000;

  private static final int AF_UNIX = 1;
  private static final int SOCK_DGRAM = 2;
  private static final int SOCK_TYPE_MASK = 0xf;
  private static final int SYS_SOCKET = 1; // linux/net.h, socketcall(2)'s call numbers
  private static final int SYS_SOCKETPAIR = 8;
  private static final int IO_URING_SETUP = 425;
  private static final int IO_URING_REGISTER = 427;

  /** One ABI: its audit arch and its socket-related system call numbers (-1: none). */
  private record Abi(int arch, int socket, int socketpair, int socketcall, boolean x32Check) {}

  private static final List<Abi> ABIS =
      List.of(
          new Abi(AUDIT_ARCH_X86_64, 41, 53, -1, true),
          new Abi(AUDIT_ARCH_I386, 359, 360, 102, false),
          new Abi(AUDIT_ARCH_AARCH64, 198, 199, -1, false),
          new Abi(AUDIT_ARCH_ARM, 281, 288, -1, false));

  private SeccompFilter() {}

  /** The program for this host, or null when the host architecture is not one listed above. */
  static byte[] forHost() {
    return forArch(System.getProperty("os.arch", ""));
  }

  /** The program for a JVM {@code os.arch}, or null when it is not one listed above. */
  static byte[] forArch(String osArch) {
    return switch (osArch.toLowerCase(Locale.ROOT)) {
      case "amd64", "x86_64", "aarch64", "arm64" -> program();
      default -> null;
    };
  }

  /** The instructions, assembled with symbolic labels and resolved to relative jumps. */
  static byte[] program() {
    Asm a = new Asm();
    a.ld(ARCH);
    for (Abi abi : ABIS) {
      a.jeq(abi.arch(), "abi" + abi.arch(), null);
    }
    a.ret(RET_KILL_PROCESS);
    for (Abi abi : ABIS) {
      a.label("abi" + abi.arch());
      a.ld(NR);
      if (abi.x32Check()) {
        a.jset(X32_SYSCALL_BIT, "kill", null);
      }
      a.jeq(abi.socket(), "socket", null);
      a.jeq(abi.socketpair(), "socketpair", null);
      if (abi.socketcall() >= 0) {
        a.jeq(abi.socketcall(), "socketcall", null);
      }
      // io_uring_setup..io_uring_register, one number on every ABI here
      for (int nr = IO_URING_SETUP; nr <= IO_URING_REGISTER; nr++) {
        a.jeq(nr, "enosys", null);
      }
      a.ret(RET_ALLOW);
    }
    a.label("socket");
    a.ld(ARG0);
    a.jeq(AF_UNIX, "eacces", "allow");
    a.label("socketpair");
    a.ld(ARG0);
    a.jeq(AF_UNIX, null, "allow");
    a.ld(ARG1);
    a.and(SOCK_TYPE_MASK);
    a.jeq(SOCK_DGRAM, "eacces", "allow");
    a.label("socketcall");
    a.ld(ARG0);
    a.jeq(SYS_SOCKET, "eacces", null);
    a.jeq(SYS_SOCKETPAIR, "eacces", "allow");
    a.label("allow");
    a.ret(RET_ALLOW);
    a.label("eacces");
    a.ret(RET_ERRNO | EACCES);
    a.label("enosys");
    a.ret(RET_ERRNO | ENOSYS);
    a.label("kill");
    a.ret(RET_KILL_PROCESS);
    return a.bytes(ByteOrder.nativeOrder());
  }

  /** A tiny two-pass assembler: jumps name labels, resolved to forward offsets at the end. */
  private static final class Asm {
    private record Insn(int code, String jt, String jf, int k) {}

    private final List<Insn> insns = new ArrayList<>();
    private final Map<String, Integer> labels = new HashMap<>();

    void ld(int offset) {
      insns.add(new Insn(BPF_LD_W_ABS, null, null, offset));
    }

    void and(int k) {
      insns.add(new Insn(BPF_AND_K, null, null, k));
    }

    /** Jumps to {@code jt} when A == k, else to {@code jf}; null means the next instruction. */
    void jeq(int k, String jt, String jf) {
      insns.add(new Insn(BPF_JEQ_K, jt, jf, k));
    }

    void jset(int k, String jt, String jf) {
      insns.add(new Insn(BPF_JSET_K, jt, jf, k));
    }

    void ret(int k) {
      insns.add(new Insn(BPF_RET_K, null, null, k));
    }

    void label(String name) {
      if (labels.putIfAbsent(name, insns.size()) != null) {
        throw new IllegalStateException("label " + name + " defined twice");
      }
    }

    byte[] bytes(ByteOrder order) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteBuffer b = ByteBuffer.allocate(8).order(order);
      for (int i = 0; i < insns.size(); i++) {
        Insn in = insns.get(i);
        b.clear();
        b.putShort((short) in.code());
        b.put((byte) offset(i, in.jt()));
        b.put((byte) offset(i, in.jf()));
        b.putInt(in.k());
        out.write(b.array(), 0, 8);
      }
      return out.toByteArray();
    }

    /** Classic BPF jumps only forward, by at most 255 instructions (filter(2) jt/jf are u8). */
    private int offset(int at, String label) {
      if (label == null) {
        return 0;
      }
      Integer target = labels.get(label);
      if (target == null) {
        throw new IllegalStateException("no label " + label);
      }
      int off = target - at - 1;
      if (off < 0 || off > 255) {
        throw new IllegalStateException("jump to " + label + " out of range: " + off);
      }
      return off;
    }
  }
}
