package dev.gatehouse.ssh;

import java.io.IOException;
import java.io.WriteAbortedException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.CompletionHandler;
import java.util.Arrays;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.sshd.common.FactoryManager;
import org.apache.sshd.common.PropertyResolver;
import org.apache.sshd.common.future.CloseFuture;
import org.apache.sshd.common.io.IoHandler;
import org.apache.sshd.common.io.IoServiceFactory;
import org.apache.sshd.common.io.IoWriteFuture;
import org.apache.sshd.common.io.nio2.Nio2DefaultIoWriteFuture;
import org.apache.sshd.common.io.nio2.Nio2Service;
import org.apache.sshd.common.io.nio2.Nio2ServiceFactory;
import org.apache.sshd.common.io.nio2.Nio2ServiceFactoryFactory;
import org.apache.sshd.common.io.nio2.Nio2Session;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.core.CoreModuleProperties;

/**
 * MINA's NIO2 transport with gathering writes, for both legs (the listener's sessions to clients
 * and the client's sessions to targets). MINA's {@link Nio2Session} (sshd-core 2.15.0) writes one
 * queued packet per write cycle: one system call and one I/O completion per SSH packet, about
 * 40,000 per GB with OpenSSH's 32 KiB data packets. Here a write cycle takes every packet queued
 * behind the first, up to {@link #MAX_BUFFERS} packets or {@link #MAX_BYTES} bytes, and hands them
 * to one {@link AsynchronousSocketChannel#write(ByteBuffer[], int, int, long, TimeUnit, Object,
 * CompletionHandler) gathering write} ({@code writev}). Packets queue whenever the relay produces
 * them faster than one write completes (the socket's send buffer full, or the completion still on
 * its way to an I/O thread): in bulk transfers, the more often the busier the machine.
 *
 * <p>The write half of {@link Nio2Session} is replaced, not copied: MINA keeps its queue private,
 * so this session queues its own futures, and the inherited queue stays empty. MINA's guarantees
 * are kept: the bytes go out in queue order; each {@link IoWriteFuture} is written once its last
 * byte is, in queue order; when a write fails, every packet of the failed gathered write fails with
 * its exception and the session closes, which aborts the later ones (as in MINA, where the failed
 * packet is alone in its write); {@link WriteAbortedException} on an immediate close; a graceful
 * close waits for the queue; a shutdown of the output stream waits for the writes queued before it.
 * Queued packets are held as MINA holds them (the encoded packet, not a copy); a cycle adds no
 * buffering of its own. Reading is MINA's, unchanged.
 */
final class SshGatheringTransport extends Nio2ServiceFactoryFactory {

  /**
   * Packets in one gathered write at most. Every heap buffer the JDK writes goes through a
   * temporary direct buffer of its I/O thread (cached per thread), so the cap bounds that memory
   * too; 16 of OpenSSH's 32 KiB data packets are 512 KiB, past {@link #MAX_BYTES} anyway.
   */
  static final int MAX_BUFFERS = 16;

  /**
   * Bytes in one gathered write at most (the first packet is always taken, whatever its size):
   * twice the gateway's largest packet ({@link SshProtocolServer#MAX_PACKET}), the size of the read
   * buffer, and more than a loopback or LAN socket's free send space usually is, so a bigger write
   * would mostly come back partial.
   */
  static final int MAX_BYTES = 256 * 1024;

  @Override
  public IoServiceFactory create(FactoryManager manager) {
    return new Nio2ServiceFactory(manager, newExecutor(), newExecutor()) {
      @Override
      public Nio2Session createSession(
          Nio2Service service,
          IoHandler handler,
          AsynchronousSocketChannel socket,
          SocketAddress address)
          throws IOException {
        return new GatheringSession(service, getFactoryManager(), handler, socket, address);
      }
    };
  }

  /** One connection: MINA's session with the write path above. */
  static final class GatheringSession extends Nio2Session
      implements CompletionHandler<Long, Object> {
    private final Queue<Nio2DefaultIoWriteFuture> queue = new ConcurrentLinkedQueue<>();

    /** Held by the thread that runs a write cycle, from its start to its completion. */
    private final AtomicBoolean writing = new AtomicBoolean();

    private final AtomicBoolean outputShutDown = new AtomicBoolean();
    private final long writeTimeoutMillis;

    // The packets of the write cycle in flight; only the holder of `writing` touches them (the
    // flag and the channel's completion order the accesses between threads).
    private final ByteBuffer[] buffers = new ByteBuffer[MAX_BUFFERS];
    private final Nio2DefaultIoWriteFuture[] futures = new Nio2DefaultIoWriteFuture[MAX_BUFFERS];
    private int count;
    private int done;

    // For tests and measurements: system calls issued and packets written.
    private final AtomicLong writeCalls = new AtomicLong();
    private final AtomicLong packetsWritten = new AtomicLong();
    private volatile int largestGather;

    GatheringSession(
        Nio2Service service,
        PropertyResolver properties,
        IoHandler handler,
        AsynchronousSocketChannel socket,
        SocketAddress acceptance)
        throws IOException {
      super(service, properties, handler, socket, acceptance);
      // MINA looks the timeout up for every write; it does not change during a session.
      writeTimeoutMillis =
          CoreModuleProperties.NIO2_MIN_WRITE_TIMEOUT.getRequired(properties).toMillis();
    }

    long writeCalls() {
      return writeCalls.get();
    }

    long packetsWritten() {
      return packetsWritten.get();
    }

    int largestGather() {
      return largestGather;
    }

    @Override
    public IoWriteFuture writeBuffer(Buffer buffer) throws IOException {
      // As Nio2Session.writeBuffer: the buffer is written from its array, not copied; the caller
      // keeps it untouched until the future completes.
      ByteBuffer b = ByteBuffer.wrap(buffer.array(), buffer.rpos(), buffer.available());
      Nio2DefaultIoWriteFuture future = new Nio2DefaultIoWriteFuture(getRemoteAddress(), null, b);
      if (isClosing()) {
        Throwable e = new ClosedChannelException();
        future.setException(e);
        exceptionCaught(e);
        return future;
      }
      queue.add(future);
      startWriting();
      return future;
    }

    @Override
    public void shutdownOutputStream() throws IOException {
      if (outputShutDown.compareAndSet(false, true)) {
        // A marker without a buffer, as in MINA: the writes queued before it go out first.
        queue.add(new Nio2DefaultIoWriteFuture("shutdown-" + getRemoteAddress(), null, null));
        startWriting();
      }
    }

    @Override
    protected void startWriting() {
      // Whoever adds to the queue and then fails to take the flag leaves the packet to the
      // holder, which looks at the queue again after letting go of the flag.
      while (!queue.isEmpty() && writing.compareAndSet(false, true)) {
        Nio2DefaultIoWriteFuture head = queue.peek();
        if (head == null) { // an immediate close emptied the queue meanwhile
          writing.set(false);
          continue;
        }
        if (head.getBuffer() == null) {
          shutdownOutput(head);
          writing.set(false);
          continue;
        }
        gather();
        try {
          writeCycle();
        } catch (RuntimeException e) {
          // As Nio2Session.startWriting: the packets fail, the next ones are tried, the caller
          // sees the exception.
          failCycle(e, false);
          throw e;
        }
        return;
      }
    }

    /** Takes the head and the packets queued behind it, up to the caps, into the cycle. */
    private void gather() {
      int bytes = 0;
      count = 0;
      done = 0;
      for (Nio2DefaultIoWriteFuture f : queue) {
        ByteBuffer b = f.getBuffer();
        if (b == null) {
          break; // a shutdown marker: written alone, after these
        }
        if (count > 0 && (count == MAX_BUFFERS || bytes + b.remaining() > MAX_BYTES)) {
          break;
        }
        buffers[count] = b;
        futures[count] = f;
        bytes += b.remaining();
        count++;
      }
      if (count > largestGather) {
        largestGather = count;
      }
    }

    private void writeCycle() {
      writeCalls.incrementAndGet();
      getSocket()
          .write(
              buffers, done, count - done, writeTimeoutMillis, TimeUnit.MILLISECONDS, null, this);
    }

    /**
     * The write cycle's completion: finishes the packets written, writes on what is left. Never
     * throws: it may run inside the {@code write} call of {@link #startWriting} (the JDK completes
     * a write on an I/O thread directly), whose catch is for that call's own exceptions only.
     */
    @Override
    public void completed(Long written, Object attachment) {
      try {
        while (done < count && !buffers[done].hasRemaining()) {
          Nio2DefaultIoWriteFuture f = futures[done];
          buffers[done] = null;
          futures[done] = null;
          done++;
          packetsWritten.incrementAndGet();
          // Off the queue before it completes, as MINA does: a listener that closes the session
          // gracefully must not find it still queued.
          queue.remove(f);
          f.setWritten();
        }
        if (done < count) {
          writeCycle(); // the socket took part of the cycle
          return;
        }
      } catch (RuntimeException e) {
        failCycle(e, true);
        return;
      }
      try {
        endCycle();
      } catch (RuntimeException e) {
        // A later cycle failed to start; its packets have failed already (startWriting).
        log.debug("completed({}) next write failed to start: {}", this, e.toString());
      }
    }

    @Override
    public void failed(Throwable e, Object attachment) {
      failCycle(e, true);
    }

    /**
     * Fails the packets of the cycle not yet written, in order, with the write's exception; with
     * {@code close}, the session ends as in MINA (whose close aborts what is still queued). Then
     * the next cycle may start.
     */
    private void failCycle(Throwable e, boolean close) {
      for (int i = done; i < count; i++) {
        futures[i].setException(e);
      }
      if (close) {
        exceptionCaught(e);
      }
      for (int i = done; i < count; i++) {
        queue.remove(futures[i]);
      }
      try {
        endCycle();
      } catch (RuntimeException again) {
        // The session is closing: nothing is left to write (MINA's SSHD-743 does the same).
        if (!close) {
          throw again;
        }
      }
    }

    private void endCycle() {
      Arrays.fill(buffers, 0, count, null);
      Arrays.fill(futures, 0, count, null);
      count = 0;
      done = 0;
      writing.set(false);
      startWriting();
    }

    /** The shutdown marker: half-closes the socket once everything before it is written. */
    private void shutdownOutput(Nio2DefaultIoWriteFuture marker) {
      AsynchronousSocketChannel socket = getSocket();
      try {
        if (socket.isOpen()) {
          try {
            socket.shutdownOutput();
          } catch (ClosedChannelException e) {
            // Closed between the check and the call (a forwarded socket whose peer left):
            // nothing is left to shut down, as in MINA.
          }
        }
        queue.remove(marker);
        marker.setWritten();
      } catch (IOException | RuntimeException e) {
        marker.setException(e);
        exceptionCaught(e);
        queue.remove(marker);
      }
    }

    @Override
    protected CloseFuture doCloseGracefully() {
      // As Nio2Session: wait for what is queued, then half-close (the inherited queue is empty).
      Object id = toString();
      return builder()
          .when(id, queue)
          .run(
              id,
              () -> {
                try {
                  AsynchronousSocketChannel socket = getSocket();
                  if (socket.isOpen()) {
                    socket.shutdownOutput();
                  }
                } catch (IOException e) {
                  log.trace("doCloseGracefully({}) shutting down output: {}", this, e.toString());
                }
              })
          .build()
          .close(false);
    }

    @Override
    protected void doCloseImmediately() {
      for (Nio2DefaultIoWriteFuture f; (f = queue.poll()) != null; ) {
        if (!f.isDone()) {
          f.setException(
              new WriteAbortedException(
                  "Write request aborted due to immediate session close", null));
        }
      }
      super.doCloseImmediately(); // closes the socket, tells the service and the handler
    }
  }
}
