/** Checks for the demo library, run by {@code java Build.java test}. */
public final class CalculatorTest {
  private CalculatorTest() {}

  public static int run() {
    int failures = 0;
    failures += check("2 + 3 = 5", Calculator.add(2, 3) == 5);
    failures += check("6 * 7 = 42", Calculator.multiply(6, 7) == 42);
    failures += check("-1 + 1 = 0", Calculator.add(-1, 1) == 0);
    return failures;
  }

  private static int check(String name, boolean ok) {
    System.out.println((ok ? "  ok   " : "  FAIL ") + name);
    return ok ? 0 : 1;
  }
}
