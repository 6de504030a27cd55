import java.io.File;
import java.util.concurrent.TimeUnit;

import org.pincurl.Client;
import org.pincurl.Options;
import org.pincurl.PincurlException;
import org.pincurl.Policy;
import org.pincurl.Request;
import org.pincurl.Response;
import org.pincurl.Verdict;

/**
 * A pinned GET with pincurl's Java binding.
 *
 *   java -cp pincurl.jar:. PinnedGet POLICY.json URL [--ca ROOTS.pem] [--resolve H:P:ADDR]
 *
 * The JNI library is found next to pincurl.jar, or where `cmake --install` put it
 * relative to the jar (docs/android.md, "Java on Linux"): no -Djava.library.path.
 *
 * Prints the HTTP code and the pin that matched, or the status and the failure detail
 * (exit status 1).
 */
public final class PinnedGet {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: PinnedGet POLICY.json URL [--ca ROOTS.pem] [--resolve H:P:ADDR]");
            System.exit(2);
        }
        Options.Builder options = Options.builder()
            .connectTimeout(5, TimeUnit.SECONDS)
            .timeout(20, TimeUnit.SECONDS);
        for (int i = 2; i + 1 < args.length; i += 2) {
            if (args[i].equals("--ca")) {
                options.caFile(new File(args[i + 1]));
            } else if (args[i].equals("--resolve")) {
                options.resolve(args[i + 1]);
            } else {
                System.err.println("unknown option " + args[i]);
                System.exit(2);
            }
        }
        try (Policy policy = Policy.fromFile(new File(args[0]));
             Client client = Client.create(policy, options.build())) {
            Response response = client.send(Request.get(args[1]));
            System.out.println("HTTP " + response.code() + " from " + response.effectiveUrl());
            Verdict verdict = response.verdict(); // null when no pinned host was validated
            System.out.println("matched pin: " + (verdict != null && verdict.matchedPin() != null
                ? verdict.matchedPin() : "(host not pinned)"));
        } catch (PincurlException e) {
            System.out.println("refused: " + e.status() + " (" + e.status().message() + ")");
            System.out.println(e.detail());
            System.exit(1);
        }
    }
}
