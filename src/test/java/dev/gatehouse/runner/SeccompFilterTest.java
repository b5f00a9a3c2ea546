package dev.gatehouse.runner;

import static dev.gatehouse.runner.SeccompFilter.AUDIT_ARCH_AARCH64;
import static dev.gatehouse.runner.SeccompFilter.AUDIT_ARCH_ARM;
import static dev.gatehouse.runner.SeccompFilter.AUDIT_ARCH_I386;
import static dev.gatehouse.runner.SeccompFilter.AUDIT_ARCH_X86_64;
import static dev.gatehouse.runner.SeccompFilter.EACCES;
import static dev.gatehouse.runner.SeccompFilter.ENOSYS;
import static dev.gatehouse.runner.SeccompFilter.RET_ALLOW;
import static dev.gatehouse.runner.SeccompFilter.RET_KILL_PROCESS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seccomp program run through a classic-BPF interpreter of the instructions it uses, for every
 * ABI it knows (the real kernel only checks the host's own, in SandboxTest).
 */
class SeccompFilterTest {
  private static final int DENIED = 0x00050000 | EACCES;
  private static final int NO_SYS = 0x00050000 | ENOSYS;
  private static final byte[] PROGRAM = SeccompFilter.program();

  @TempDir Path dir;

  /** What the program returns for one system call ({@code struct seccomp_data}). */
  private static int run(int arch, int nr, long arg0, long arg1) {
    ByteBuffer data = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    data.putInt(0, nr).putInt(4, arch).putLong(16, arg0).putLong(24, arg1);
    ByteBuffer prog = ByteBuffer.wrap(PROGRAM).order(ByteOrder.nativeOrder());
    int a = 0;
    int pc = 0;
    for (int steps = 0; steps < 4096; steps++) {
      int code = prog.getShort(pc * 8) & 0xffff;
      int jt = prog.get(pc * 8 + 2) & 0xff;
      int jf = prog.get(pc * 8 + 3) & 0xff;
      int k = prog.getInt(pc * 8 + 4);
      pc++;
      switch (code) {
        case 0x20 -> a = data.getInt(k);
        case 0x54 -> a &= k;
        case 0x15 -> pc += a == k ? jt : jf;
        case 0x45 -> pc += (a & k) != 0 ? jt : jf;
        case 0x06 -> {
          return k;
        }
        default -> throw new AssertionError("unexpected instruction " + code);
      }
    }
    throw new AssertionError("no return");
  }

  @Test
  void x86_64RefusesUnixSocketsWhateverTheHighBitsAndKeepsEverythingElse() {
    assertThat(PROGRAM.length % 8).isZero();
    assertThat(run(AUDIT_ARCH_X86_64, 41, 1, 1)).isEqualTo(DENIED); // socket(AF_UNIX, STREAM)
    assertThat(run(AUDIT_ARCH_X86_64, 41, 0xffffffff00000001L, 1)).isEqualTo(DENIED);
    assertThat(run(AUDIT_ARCH_X86_64, 41, 2, 1)).isEqualTo(RET_ALLOW); // AF_INET
    assertThat(run(AUDIT_ARCH_X86_64, 41, 16, 3)).isEqualTo(RET_ALLOW); // AF_NETLINK
    // socketpair: stream and seqpacket pairs stay; a datagram pair could sendto(2) any path
    assertThat(run(AUDIT_ARCH_X86_64, 53, 1, 1)).isEqualTo(RET_ALLOW);
    assertThat(run(AUDIT_ARCH_X86_64, 53, 1, 5 | 0x80000)).isEqualTo(RET_ALLOW);
    assertThat(run(AUDIT_ARCH_X86_64, 53, 1, 2)).isEqualTo(DENIED);
    assertThat(run(AUDIT_ARCH_X86_64, 53, 1, 2 | 0x80000 | 0x800)).isEqualTo(DENIED);
    for (int nr = 425; nr <= 427; nr++) {
      assertThat(run(AUDIT_ARCH_X86_64, nr, 0, 0)).as("io_uring %d", nr).isEqualTo(NO_SYS);
    }
    assertThat(run(AUDIT_ARCH_X86_64, 42, 3, 0)).isEqualTo(RET_ALLOW); // connect
    assertThat(run(AUDIT_ARCH_X86_64, 0, 0, 0)).isEqualTo(RET_ALLOW); // read
    // x32 (socket is 0x40000000 + 41) and an architecture the program does not know
    assertThat(run(AUDIT_ARCH_X86_64, 0x40000000 | 41, 1, 1)).isEqualTo(RET_KILL_PROCESS);
    assertThat(run(AUDIT_ARCH_X86_64, 0x40000000, 0, 0)).isEqualTo(RET_KILL_PROCESS);
    assertThat(run(0xC00000F3, 198, 1, 1)).isEqualTo(RET_KILL_PROCESS); // riscv64
  }

  @Test
  void theCompatAbisAndAarch64UseTheirOwnNumbers() {
    assertThat(run(AUDIT_ARCH_I386, 359, 1, 1)).isEqualTo(DENIED);
    assertThat(run(AUDIT_ARCH_I386, 360, 1, 2)).isEqualTo(DENIED);
    assertThat(run(AUDIT_ARCH_I386, 359, 2, 1)).isEqualTo(RET_ALLOW);
    // socketcall(SYS_SOCKET) and (SYS_SOCKETPAIR): the family is in user memory
    assertThat(run(AUDIT_ARCH_I386, 102, 1, 0x1000)).isEqualTo(DENIED);
    assertThat(run(AUDIT_ARCH_I386, 102, 8, 0x1000)).isEqualTo(DENIED);
    assertThat(run(AUDIT_ARCH_I386, 102, 3, 0x1000)).isEqualTo(RET_ALLOW); // SYS_CONNECT
    assertThat(run(AUDIT_ARCH_I386, 41, 1, 1)).isEqualTo(RET_ALLOW); // dup there
    assertThat(run(AUDIT_ARCH_I386, 425, 0, 0)).isEqualTo(NO_SYS);
    assertThat(run(AUDIT_ARCH_AARCH64, 198, 1, 1)).isEqualTo(DENIED);
    assertThat(run(AUDIT_ARCH_AARCH64, 199, 1, 2)).isEqualTo(DENIED);
    assertThat(run(AUDIT_ARCH_AARCH64, 199, 1, 1)).isEqualTo(RET_ALLOW);
    assertThat(run(AUDIT_ARCH_AARCH64, 41, 1, 1)).isEqualTo(RET_ALLOW); // pivot_root there
    assertThat(run(AUDIT_ARCH_AARCH64, 0x40000000 | 198, 1, 1)).isEqualTo(RET_ALLOW);
    assertThat(run(AUDIT_ARCH_AARCH64, 426, 0, 0)).isEqualTo(NO_SYS);
    assertThat(run(AUDIT_ARCH_ARM, 281, 1, 1)).isEqualTo(DENIED);
    assertThat(run(AUDIT_ARCH_ARM, 288, 1, 2)).isEqualTo(DENIED);
    assertThat(run(AUDIT_ARCH_ARM, 281, 10, 1)).isEqualTo(RET_ALLOW);
  }

  @Test
  void anUnsupportedArchitectureRefusesNetworkFalseJobs() throws Exception {
    assertThat(SeccompFilter.forArch("amd64")).isEqualTo(PROGRAM);
    assertThat(SeccompFilter.forArch("aarch64")).isEqualTo(PROGRAM);
    assertThat(SeccompFilter.forArch("riscv64")).isNull();
    assertThat(SeccompFilter.forArch("s390x")).isNull();
    assertThatThrownBy(() -> Sandbox.unixSocketFilter(dir, "box", "riscv64"))
        .isInstanceOf(Refusal.class)
        .hasMessage(
            "connection box has network: false, and the seccomp filter that refuses Unix sockets"
                + " exists for x86_64 and aarch64 only, not riscv64 (fail closed)");
    assertThat(dir.resolve("exec-seccomp-no-unix-sockets.bpf")).doesNotExist();
  }

  @Test
  void theFilterFileIsPrivateAndRewrittenWhenItDiffers() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(Sandbox.bubblewrapAvailable());
    Path f = Sandbox.unixSocketFilter(dir, "box", "amd64");
    assertThat(f).hasBinaryContent(PROGRAM);
    assertThat(Files.getPosixFilePermissions(f))
        .containsExactlyInAnyOrderElementsOf(
            java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    Files.write(f, new byte[] {6, 0, 0, 0, 0, 0, (byte) 0xff, 0x7f}); // "allow everything"
    assertThat(Sandbox.unixSocketFilter(dir, "box", "amd64")).hasBinaryContent(PROGRAM);
  }
}
