// The demo project's build tool, run by the gateway's exec runner:
//   java Build.java build     compile src/*.java into build/classes
//   java Build.java test      build, then run the checks in CalculatorTest
//   java Build.java env       print the environment (as CI tools often do in debug mode)
//   java Build.java publish   publish the library with DEPLOY_TOKEN (the demo policy denies it)
// It needs nothing but a JDK.
import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.tools.ToolProvider;

public class Build {
  public static void main(String[] args) throws Exception {
    String task = args.length == 0 ? "help" : args[0];
    switch (task) {
      case "build" -> build();
      case "test" -> {
        build();
        test();
      }
      case "env" -> new TreeMap<>(System.getenv()).forEach((k, v) -> System.out.println(k + "=" + v));
      case "publish" -> publish();
      default -> {
        System.err.println("usage: java Build.java build|test|env|publish");
        System.exit(2);
      }
    }
  }

  static void build() throws Exception {
    List<String> sources = new ArrayList<>();
    try (var files = Files.list(Path.of("src"))) {
      files.filter(p -> p.toString().endsWith(".java")).forEach(p -> sources.add(p.toString()));
    }
    Path out = Path.of("build", "classes");
    Files.createDirectories(out);
    List<String> javacArgs = new ArrayList<>(List.of("-d", out.toString()));
    javacArgs.addAll(sources);
    int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null, javacArgs.toArray(String[]::new));
    if (rc != 0) {
      System.exit(rc);
    }
    System.out.println("build: compiled " + sources.size() + " files into " + out);
  }

  static void test() throws Exception {
    try (URLClassLoader loader =
        new URLClassLoader(new URL[] {new File("build/classes").toURI().toURL()})) {
      Class<?> tests = loader.loadClass("CalculatorTest");
      Object failures = tests.getMethod("run").invoke(null);
      if (((Integer) failures) != 0) {
        System.out.println("test: " + failures + " failed");
        System.exit(1);
      }
      System.out.println("test: all checks passed");
      String token = System.getenv("DEPLOY_TOKEN");
      // A careless debug line of the kind that leaks credentials into CI logs:
      System.out.println("test: deploy credentials present: DEPLOY_TOKEN=" + token);
    }
  }

  static void publish() {
    Map<String, String> env = System.getenv();
    System.out.println(
        "publish: uploading calculator-1.0.jar to https://repo.example.com with token "
            + env.get("DEPLOY_TOKEN"));
  }
}
