import java.io.File;

import org.pincurl.Client;
import org.pincurl.Options;
import org.pincurl.PincurlException;
import org.pincurl.Policy;
import org.pincurl.Request;
import org.pincurl.Response;

/**
 * A program built against the installed pincurl.jar only:
 *
 *   java -cp PREFIX/share/java/pincurl.jar:. Consumer URL CA.pem PIN PIN
 *
 * Prints "OK <code> depth <n> <pin>" for a pinned request, or "<STATUS> <detail>" and exits
 * 1. The JNI library is found where cmake --install put it, from the jar's location.
 */
public final class Consumer {
    public static void main(String[] args) throws Exception {
        try (Policy policy = Policy.builder().add("localhost", args[2], args[3]).build();
             Client client = Client.create(policy, Options.builder().caFile(new File(args[1])).build())) {
            Response r = client.send(Request.get(args[0]));
            System.out.println("OK " + r.code() + " depth " + r.verdict().matchedDepth() + " "
                + r.verdict().matchedPin());
        } catch (PincurlException e) {
            System.out.println(e.status() + " " + e.detail().split("\n")[0]);
            System.exit(1);
        }
    }
}
