package dev.gatehouse.audit;

/**
 * The outcome of {@link AuditVerifier#verify()}.
 *
 * @param ok true when every record and checkpoint checked out
 * @param records records walked
 * @param checkpoints checkpoints whose signature and hash were checked
 * @param lastSeq seq of the last record walked (0 for an empty log)
 * @param firstBadSeq seq of the first bad record or checkpoint, or null when ok
 * @param problem what is wrong with it, or null when ok
 */
public record VerifyResult(
    boolean ok, long records, long checkpoints, long lastSeq, Long firstBadSeq, String problem) {

  static VerifyResult passed(long records, long checkpoints, long lastSeq) {
    return new VerifyResult(true, records, checkpoints, lastSeq, null, null);
  }

  static VerifyResult failed(
      long records, long checkpoints, long lastSeq, long badSeq, String problem) {
    return new VerifyResult(false, records, checkpoints, lastSeq, badSeq, problem);
  }
}
