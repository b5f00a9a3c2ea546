package dev.gatehouse.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.WriteAbortedException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.common.io.IoConnectFuture;
import org.apache.sshd.common.io.IoConnector;
import org.apache.sshd.common.io.IoHandler;
import org.apache.sshd.common.io.IoServiceFactory;
import org.apache.sshd.common.io.IoSession;
import org.apache.sshd.common.io.IoWriteFuture;
import org.apache.sshd.common.util.Readable;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.core.CoreModuleProperties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The gathering NIO2 session against a real TCP peer (a plain socket the test reads, or does not):
 * packets queued behind a write in flight go out in one write, in order, every future completes in
 * order, and MINA's failure and close semantics hold.
 */
class SshGatheringTransportTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private SshClient manager;
  private IoServiceFactory factory;
  private ServerSocket listener;
  private Socket peer;
  private SshGatheringTransport.GatheringSession session;

  @BeforeEach
  void connect() throws Exception {
    manager = SshClient.setUpDefaultClient();
    // A small send buffer, and a peer that does not read yet: writes stay pending, packets queue.
    CoreModuleProperties.SOCKET_SNDBUF.set(manager, 16 * 1024);
    factory = new SshGatheringTransport().create(manager);
    IoConnector connector = factory.createConnector(new Handler());
    listener = new ServerSocket();
    listener.setReceiveBufferSize(16 * 1024);
    listener.bind(new InetSocketAddress("127.0.0.1", 0));
    IoConnectFuture connected = connector.connect(listener.getLocalSocketAddress(), null, null);
    assertThat(connected.await(WAIT)).isTrue();
    peer = listener.accept();
    IoSession s = connected.getSession();
    assertThat(s).isInstanceOf(SshGatheringTransport.GatheringSession.class);
    session = (SshGatheringTransport.GatheringSession) s;
  }

  @AfterEach
  void close() throws IOException {
    session.close(true);
    peer.close();
    listener.close();
    factory.close(true);
  }

  @Test
  void queuedPacketsGoOutTogetherInOrder() throws Exception {
    int n = 2000;
    List<Integer> completed = new ArrayList<>();
    List<IoWriteFuture> futures = write(n, 8 * 1024, completed);
    byte[] got = readFully(peer.getInputStream(), n * 8 * 1024);
    for (IoWriteFuture f : futures) {
      assertThat(f.verify(WAIT).isWritten()).isTrue();
    }
    assertOrder(got, n, 8 * 1024);
    awaitListeners(completed, n);
    synchronized (completed) {
      assertThat(completed).isEqualTo(range(n));
    }
    assertThat(session.packetsWritten()).isEqualTo(n);
    assertThat(session.largestGather()).isEqualTo(SshGatheringTransport.MAX_BUFFERS);
    // Fewer system calls than packets, though the small socket buffers split most writes.
    assertThat(session.writeCalls()).isLessThan(n);
  }

  @Test
  void aGatheredWriteStaysWithinTheByteCap() throws Exception {
    int size = 100 * 1024; // two fit in MAX_BYTES, three do not
    int n = 60;
    List<IoWriteFuture> futures = write(n, size, new ArrayList<>());
    byte[] got = readFully(peer.getInputStream(), n * size);
    for (IoWriteFuture f : futures) {
      assertThat(f.verify(WAIT).isWritten()).isTrue();
    }
    assertOrder(got, n, size);
    assertThat(session.largestGather()).isEqualTo(2);

    // One packet larger than the cap still goes out, alone.
    IoWriteFuture big = session.writeBuffer(new ByteArrayBuffer(new byte[300 * 1024]));
    readFully(peer.getInputStream(), 300 * 1024);
    assertThat(big.verify(WAIT).isWritten()).isTrue();
  }

  @Test
  void aResetPeerFailsEveryPendingWrite() throws Exception {
    int n = 500;
    List<Integer> completed = new ArrayList<>();
    List<IoWriteFuture> futures = write(n, 8 * 1024, completed);
    peer.setSoLinger(true, 0); // close with RST: the pending write fails
    peer.close();
    for (IoWriteFuture f : futures) {
      f.await(WAIT);
      assertThat(f.isDone()).isTrue();
    }
    // Every listener ran once. Not necessarily in order here: as in MINA, the failed write and the
    // session close it causes (the read side sees the reset too) complete futures on two threads.
    awaitListeners(completed, n);
    synchronized (completed) {
      assertThat(completed).containsExactlyInAnyOrderElementsOf(range(n));
    }
    long failed = futures.stream().filter(f -> f.getException() != null).count();
    assertThat(failed).isGreaterThan(0);
    // Written ones first, then only failures.
    int firstFailed = (int) futures.stream().takeWhile(IoWriteFuture::isWritten).count();
    assertThat(futures.subList(firstFailed, n)).allMatch(f -> f.getException() != null);
    assertThat(session.isClosing() || session.isClosed()).isTrue();
  }

  @Test
  void anImmediateCloseAbortsWhatIsQueued() throws Exception {
    int n = 500;
    List<IoWriteFuture> futures = write(n, 8 * 1024, new ArrayList<>());
    session.close(true).await(WAIT);
    for (IoWriteFuture f : futures) {
      f.await(WAIT);
    }
    assertThat(futures.get(n - 1).getException()).isInstanceOf(WriteAbortedException.class);
    IoWriteFuture late = session.writeBuffer(new ByteArrayBuffer(new byte[10]));
    assertThat(late.getException()).isInstanceOf(IOException.class);
  }

  @Test
  void outputShutdownAndGracefulCloseWaitForTheQueue() throws Exception {
    int n = 300;
    List<IoWriteFuture> futures = write(n, 8 * 1024, new ArrayList<>());
    session.shutdownOutputStream();
    DataInputStream in = new DataInputStream(peer.getInputStream());
    byte[] got = readFully(in, n * 8 * 1024);
    assertOrder(got, n, 8 * 1024);
    assertThat(in.read()).isEqualTo(-1); // the half-close came after the last packet
    for (IoWriteFuture f : futures) {
      assertThat(f.verify(WAIT).isWritten()).isTrue();
    }
    assertThat(session.isOpen()).isTrue();
    assertThat(session.close(false).await(WAIT)).isTrue();
  }

  /** n packets of the given size; packet i holds i in its first four bytes. */
  private List<IoWriteFuture> write(int n, int size, List<Integer> completed) throws IOException {
    List<IoWriteFuture> futures = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      byte[] b = new byte[size];
      ByteBuffer.wrap(b).putInt(i).putInt(size - 8, ~i);
      IoWriteFuture f = session.writeBuffer(new ByteArrayBuffer(b));
      int index = i;
      f.addListener(
          done -> {
            synchronized (completed) {
              completed.add(index);
            }
          });
      futures.add(f);
    }
    return futures;
  }

  /** A future's listeners run just after its waiters wake: waits until all n have run. */
  private static void awaitListeners(List<Integer> completed, int n) throws InterruptedException {
    long end = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < end) {
      synchronized (completed) {
        if (completed.size() >= n) {
          return;
        }
      }
      Thread.sleep(10);
    }
  }

  private static byte[] readFully(InputStream in, int n) throws IOException {
    return new DataInputStream(in).readNBytes(n);
  }

  private static void assertOrder(byte[] got, int n, int size) {
    assertThat(got).hasSize(n * size);
    ByteBuffer b = ByteBuffer.wrap(got);
    for (int i = 0; i < n; i++) {
      assertThat(b.getInt(i * size)).as("packet %d", i).isEqualTo(i);
      assertThat(b.getInt(i * size + size - 8)).as("packet %d tail", i).isEqualTo(~i);
    }
  }

  private static List<Integer> range(int n) {
    List<Integer> r = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      r.add(i);
    }
    return r;
  }

  /** Nothing to handle: the peer never sends, failures show in the write futures. */
  private static final class Handler implements IoHandler {
    @Override
    public void sessionCreated(IoSession session) {}

    @Override
    public void sessionClosed(IoSession session) {}

    @Override
    public void exceptionCaught(IoSession session, Throwable cause) {}

    @Override
    public void messageReceived(IoSession session, Readable message) {}
  }
}
