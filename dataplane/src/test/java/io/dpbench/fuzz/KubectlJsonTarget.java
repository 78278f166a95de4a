package io.dpbench.fuzz;

import io.dpbench.model.ClusterLoadException;
import io.dpbench.model.KubectlJsonLoader;

import java.nio.charset.StandardCharsets;

/**
 * {@code kubectl get services,endpointslices -A -o json}: {@link KubectlJsonLoader#load(String, String)} gives a
 * cluster model or one {@link ClusterLoadException} (one line naming the source).
 *
 * <p>A finding of the first long run, fixed: the loader quoted JSON string values in its messages as they were, so a
 * value holding a line break (a JSON {@code "\n"} escape) made a message of two lines (reproducers
 * {@code crash-194fac1e...} and {@code crash-7ea7141d...} in the corpus, replayed by every run). Any other exception is
 * a finding.
 */
public final class KubectlJsonTarget implements FuzzTarget
{
    private static final KubectlJsonTarget INSTANCE = new KubectlJsonTarget();

    public static void fuzzerTestOneInput(final byte[] input)
    {
        INSTANCE.test(input);
    }

    @Override
    public String name()
    {
        return "kubectl-json";
    }

    @Override
    public void test(final byte[] input)
    {
        final String json = new String(input, StandardCharsets.UTF_8);
        try
        {
            final KubectlJsonLoader.Result result = KubectlJsonLoader.load(json, "fuzz.json");
            if (result == null || result.model() == null)
            {
                throw new PropertyViolation("load returned no model");
            }
        }
        catch (final ClusterLoadException ex)
        {
            final String message = ex.getMessage();
            final boolean lines = FuzzTarget.oneLine(message);
            if (!lines || !message.startsWith("fuzz.json"))
            {
                throw new PropertyViolation("error is not one line naming the source: " + ex.getMessage(), ex);
            }
        }
    }
}
