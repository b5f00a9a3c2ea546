package dev.gatehouse.ssh;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.sshd.common.channel.LocalWindow;
import org.apache.sshd.server.channel.ChannelDataReceiver;
import org.apache.sshd.server.channel.ChannelSession;

/**
 * The data a client sends on a session channel, as an {@link InputStream} for a relay thread:
 * SSH_MSG_CHANNEL_DATA payloads are kept in chunks, in arrival order, and the channel window (RFC
 * 4254 section 5.2) is given back only as the relay consumes bytes, so at most one window of data
 * is ever held, as with MINA's default pipe. Small payloads are appended to the last chunk, so a
 * client sending one-byte packets cannot make the bookkeeping outgrow the data: every chunk but the
 * last holds at least {@link #CHUNK} bytes or one whole payload.
 *
 * <p>Why not MINA's default ({@code ChannelPipedInputStream}): it keeps everything in one array
 * and, after a read leaves it past one packet's worth, moves all unread bytes to the front. When
 * the relay falls behind the client (it hashes and re-encrypts every byte), a 4 MiB window means
 * megabytes moved per packet read; here a read only copies out what it returns.
 */
final class SshChannelInput extends InputStream implements ChannelDataReceiver {
  /** Reopens the client's window by the bytes the relay consumed. */
  interface Window {
    void release(long n) throws IOException;
  }

  private final Window window;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition arrived = lock.newCondition();
  private final ArrayDeque<Chunk> chunks = new ArrayDeque<>();

  /** Smallest chunk allocated: OpenSSH's data packet size (channels.h CHAN_SES_PACKET_DEFAULT). */
  static final int CHUNK = 32 * 1024;

  private static final class Chunk {
    final byte[] b;
    int len;

    Chunk(int capacity) {
      b = new byte[capacity];
    }
  }

  /** Read position in the first chunk. */
  private int head;

  /** Unread bytes in all chunks. */
  private long buffered;

  /** The client sent EOF, the channel closed or the relay closed this: no more data comes. */
  private boolean eof;

  /**
   * Bytes the waiting reader needs before it is worth waking (1 for {@link #read}, more for {@link
   * #readNBytes}).
   */
  private long wanted = 1;

  /**
   * Most bytes {@link #readNBytes} waits for before it copies: an eighth of the window the gateway
   * grants on its channels ({@link SshProtocolServer#WINDOW_SIZE}, 4 MiB, both legs), so the peer
   * can always send that much while the reader consumes nothing; and more than one SFTP packet
   * ({@link SftpPacket#MAX_LENGTH}), the largest read that waits.
   */
  static final int FILL = 512 * 1024;

  SshChannelInput(Window window) {
    this.window = window;
  }

  /** Installs this as the channel's receiver; call before the command's streams are prepared. */
  static SshChannelInput install(ChannelSession channel) {
    SshChannelInput in = reopening(channel::getLocalWindow);
    channel.setDataReceiver(in);
    return in;
  }

  /**
   * Bytes consumed before the window is given back, at most (a sixteenth of a smaller window). MINA
   * sends SSH_MSG_CHANNEL_WINDOW_ADJUST for every release past 16 KiB once the peer's credit is
   * below half the window, which is all the time when the relay is the slower side (an upload's
   * client leg, a download's target leg): one small packet, and one write system call, per read of
   * the relay (64 KiB for legacy scp), about 16,000 per GB. Held back in 256 KiB steps, the peer
   * still has at least 15/16 of the window, and it can only run short while unread data is
   * buffered, whose reading releases the rest: no stall.
   */
  static final long RELEASE_STEP = 256 * 1024;

  /** An input that reopens {@code window} (a channel's local window) as the relay reads. */
  static SshChannelInput reopening(java.util.function.Supplier<LocalWindow> window) {
    return new SshChannelInput(
        inSteps(
            () -> Math.min(RELEASE_STEP, window.get().getMaxSize() / 16),
            n -> {
              // As ChannelPipedInputStream: it may send SSH_MSG_CHANNEL_WINDOW_ADJUST.
              LocalWindow w = window.get();
              if (w.isOpen()) {
                w.release(n);
              }
            }));
  }

  /** Passes consumed bytes on to {@code release} once at least {@code step} have gathered. */
  static Window inSteps(java.util.function.LongSupplier step, Window release) {
    java.util.concurrent.atomic.AtomicLong held = new java.util.concurrent.atomic.AtomicLong();
    return n -> {
      if (held.addAndGet(n) >= step.getAsLong()) {
        long h = held.getAndSet(0);
        if (h > 0) {
          release.release(h);
        }
      }
    };
  }

  /**
   * Called by MINA's I/O thread with one packet's data. Returns 0: none of it is consumed yet, the
   * window is adjusted by {@link #read} instead.
   */
  @Override
  public int data(ChannelSession channel, byte[] buf, int start, int len) throws IOException {
    if (!receive(buf, start, len)) {
      throw new IOException("channel input closed");
    }
    return 0;
  }

  /**
   * Keeps one packet's data (copied: MINA reuses its buffer). Returns false, keeping nothing, when
   * this was closed: the relay reads no more, and the channel is closing.
   */
  boolean receive(byte[] buf, int start, int len) {
    if (len == 0) {
      return true;
    }
    lock.lock();
    try {
      if (eof) {
        return false;
      }
      Chunk tail = chunks.peekLast();
      if (tail == null || tail.b.length - tail.len < len) {
        tail = new Chunk(Math.max(len, CHUNK));
        chunks.addLast(tail);
      }
      System.arraycopy(buf, start, tail.b, tail.len, len);
      tail.len += len;
      buffered += len;
      if (buffered >= wanted) {
        arrived.signalAll();
      }
    } finally {
      lock.unlock();
    }
    return true;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    java.util.Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) {
      return 0;
    }
    int n = 0;
    lock.lock();
    try {
      while (buffered == 0 && !eof) {
        try {
          arrived.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted waiting for channel data");
        }
      }
      if (buffered == 0) {
        return -1;
      }
      while (n < len && n < buffered) { // the last chunk stays, maybe empty, for reuse
        Chunk c = chunks.peekFirst();
        int take = Math.min(len - n, c.len - head);
        System.arraycopy(c.b, head, b, off + n, take);
        n += take;
        head += take;
        if (head == c.len) {
          if (chunks.size() == 1) {
            c.len = 0; // the last chunk is reused for what arrives next
          } else {
            chunks.removeFirst();
          }
          head = 0;
        }
      }
      buffered -= n;
    } finally {
      lock.unlock();
    }
    // Outside the lock: releasing may send SSH_MSG_CHANNEL_WINDOW_ADJUST.
    window.release(n);
    return n;
  }

  /**
   * Reads exactly {@code len} bytes, fewer only at end of stream, waking the reader once they are
   * all there (up to {@link #FILL} at a time) rather than once per SSH packet: a 255 KiB SFTP
   * request arrives in eight 32 KiB channel packets (OpenSSH's packet size), and waking a relay
   * thread eight times costs more CPU than copying the request.
   */
  @Override
  public int readNBytes(byte[] b, int off, int len) throws IOException {
    java.util.Objects.checkFromIndexSize(off, len, b.length);
    int n = 0;
    while (n < len) {
      lock.lock();
      try {
        wanted = Math.min(len - n, FILL);
        while (buffered < wanted && !eof) {
          arrived.await();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted waiting for channel data");
      } finally {
        wanted = 1;
        lock.unlock();
      }
      int k = read(b, off + n, len - n);
      if (k < 0) {
        break;
      }
      n += k;
    }
    return n;
  }

  @Override
  public int available() {
    lock.lock();
    try {
      return (int) Math.min(buffered, Integer.MAX_VALUE);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Called by MINA on the client's EOF (RFC 4254 section 5.3) and when the channel closes, and by a
   * relay that is done: no more data is accepted, and reads return what already arrived, then end
   * of stream (a relay that closed this stops reading on its own).
   */
  @Override
  public void close() {
    lock.lock();
    try {
      eof = true;
      arrived.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
