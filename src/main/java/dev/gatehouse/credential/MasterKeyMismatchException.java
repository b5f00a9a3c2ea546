package dev.gatehouse.credential;

/**
 * The master key does not open a keyset in the store: the key was changed, lost, or belongs to
 * another installation. Nothing sealed under the previous key can be opened until it is restored.
 */
public final class MasterKeyMismatchException extends IllegalStateException {
  MasterKeyMismatchException(String keyset, MasterKey key, Throwable cause) {
    super(
        "master key ("
            + key.origin()
            + ") does not match the store's keyset \""
            + keyset
            + "\"; restore the previous key (server.master_key or DATA_DIR/master.key), or, if"
            + " it is lost, delete the keyset and re-enter the credentials it protected",
        cause);
  }
}
