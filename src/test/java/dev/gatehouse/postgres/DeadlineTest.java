package dev.gatehouse.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import org.junit.jupiter.api.Test;

class DeadlineTest {

  @Test
  void closesASocketBlockedInReadWhenItExpires() throws Exception {
    try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket client = new Socket(ss.getInetAddress(), ss.getLocalPort());
        Socket accepted = ss.accept()) {
      Deadline d = Deadline.after(200);
      d.watch(accepted);
      long start = System.nanoTime();
      IOException e = assertThrows(IOException.class, () -> accepted.getInputStream().read());
      assertTrue(System.nanoTime() - start >= 150_000_000L, "not before the deadline");
      assertTrue(d.expired());
      assertTrue(accepted.isClosed());
      IOException explained = d.explain(e);
      assertInstanceOf(java.net.SocketTimeoutException.class, explained);
      assertEquals("timed out after 200 ms", explained.getMessage());
      assertEquals(0, client.getInputStream().read() + 1, "the peer sees end of stream");
    }
  }

  @Test
  void aDisarmedDeadlineLeavesTheSocketAlone() throws Exception {
    try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket client = new Socket(ss.getInetAddress(), ss.getLocalPort());
        Socket accepted = ss.accept()) {
      Deadline d = Deadline.after(100);
      d.watch(accepted);
      d.close();
      Thread.sleep(300);
      assertFalse(d.expired());
      assertFalse(accepted.isClosed());
      client.getOutputStream().write(7);
      assertEquals(7, accepted.getInputStream().read());
      IOException other = new IOException("x");
      assertEquals(other, d.explain(other), "an unrelated failure is reported as it is");
    }
  }

  @Test
  void watchingAfterExpiryClosesAtOnce() throws Exception {
    Deadline d = Deadline.after(1);
    Thread.sleep(100);
    try (Socket s = new Socket()) {
      d.watch(s);
      assertTrue(s.isClosed());
    }
  }

  @Test
  void inputIsDrainedOnlyWhenItsBufferIsEmpty() throws Exception {
    byte[] data = {1, 2, 3};
    // A source whose available() must not be asked (a plain socket: one ioctl per call).
    InputStream source =
        new ByteArrayInputStream(data) {
          @Override
          public synchronized int available() {
            throw new AssertionError("asked the socket");
          }
        };
    PgInput in = new PgInput(source, 2, false);
    assertTrue(in.drained(), "nothing read yet: nothing pending");
    assertEquals(1, in.read());
    assertFalse(in.drained(), "one byte of the first fill left");
    assertEquals(2, in.read());
    assertTrue(in.drained());
    // A TLS stream answers available() from its own buffer: it is asked.
    PgInput tls = new PgInput(new ByteArrayInputStream(data), 1, true);
    assertEquals(1, tls.read());
    assertFalse(tls.drained(), "the source still holds two bytes");
  }
}
