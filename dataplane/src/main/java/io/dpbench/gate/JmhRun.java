package io.dpbench.gate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One JMH run as the gate reads it: per benchmark and parameter set, the raw per-iteration scores grouped by fork
 * ({@code primaryMetric.rawData[fork][iteration]}), the mode and the unit. Loaded from JMH's own JSON.
 */
public final class JmhRun
{
    /** One benchmark with one parameter set. {@code forks} holds each fork's iteration scores. */
    public record Result(String benchmark, String params, String mode, String unit, List<double[]> forks,
        Map<String, String> paramMap, double score, double scoreError)
    {
        public String key()
        {
            return benchmark + (params.isEmpty() ? "" : " " + params);
        }

        /** True when a larger score is worse (time per operation); false for throughput. */
        public boolean lowerIsBetter()
        {
            return !"thrpt".equals(mode);
        }

        public double mean()
        {
            double sum = 0;
            int n = 0;
            for (final double[] fork : forks)
            {
                for (final double v : fork)
                {
                    sum += v;
                    n++;
                }
            }
            return sum / n;
        }

        /**
         * The samples whose spread the gate trusts: one mean per fork when there are several forks (JMH runs each
         * benchmark in its own JVM, and fork-to-fork variation is the larger part), else the iterations.
         */
        public double[] samples()
        {
            if (forks.size() > 1)
            {
                final double[] means = new double[forks.size()];
                for (int f = 0; f < means.length; f++)
                {
                    double sum = 0;
                    for (final double v : forks.get(f))
                    {
                        sum += v;
                    }
                    means[f] = sum / forks.get(f).length;
                }
                return means;
            }
            return forks.get(0).clone();
        }
    }

    private final Path file;
    private final Map<String, Result> results;

    private JmhRun(final Path file, final Map<String, Result> results)
    {
        this.file = file;
        this.results = results;
    }

    public Path file()
    {
        return file;
    }

    public Map<String, Result> results()
    {
        return results;
    }

    /** Load {@code jmh.json} from a run folder (or a JSON file given directly). */
    public static JmhRun load(final Path location) throws GateInputException
    {
        final Path file = Files.isDirectory(location) ? location.resolve("jmh.json") : location;
        if (!Files.isRegularFile(file))
        {
            throw new GateInputException(file + ": no such file (expected JMH's JSON, jmh.json in a run folder)");
        }
        final JsonNode root;
        try
        {
            root = new ObjectMapper().readTree(Files.readString(file));
        }
        catch (final IOException ex)
        {
            throw new GateInputException(file + ": not valid JSON: " + ex.getMessage().lines().findFirst().orElse(""));
        }
        if (root == null || !root.isArray())
        {
            throw new GateInputException(file + ": not JMH results (expected a JSON array of benchmark results)");
        }
        final Map<String, Result> results = new LinkedHashMap<>();
        for (int i = 0; i < root.size(); i++)
        {
            final JsonNode r = root.get(i);
            final String where = file + ": result " + i;
            final String benchmark = text(r, "benchmark", where);
            final String mode = text(r, "mode", where);
            final JsonNode metric = r.get("primaryMetric");
            if (metric == null || !metric.isObject())
            {
                throw new GateInputException(where + " (" + benchmark + "): primaryMetric missing");
            }
            final String unit = text(metric, "scoreUnit", where + " primaryMetric");
            final JsonNode raw = metric.get("rawData");
            if (raw == null || !raw.isArray() || raw.size() == 0)
            {
                throw new GateInputException(where + " (" + benchmark + "): primaryMetric.rawData missing or empty");
            }
            final List<double[]> forks = new ArrayList<>();
            for (final JsonNode fork : raw)
            {
                if (!fork.isArray() || fork.size() == 0)
                {
                    throw new GateInputException(where + " (" + benchmark + "): rawData holds an empty or non-array fork");
                }
                final double[] values = new double[fork.size()];
                for (int k = 0; k < values.length; k++)
                {
                    if (!fork.get(k).isNumber())
                    {
                        throw new GateInputException(where + " (" + benchmark + "): rawData value " + fork.get(k) + " is not a number");
                    }
                    values[k] = fork.get(k).asDouble();
                }
                forks.add(values);
            }
            final Map<String, String> params = new TreeMap<>();
            final JsonNode p = r.get("params");
            if (p != null && p.isObject())
            {
                for (final Iterator<Map.Entry<String, JsonNode>> it = p.fields(); it.hasNext(); )
                {
                    final Map.Entry<String, JsonNode> e = it.next();
                    params.put(e.getKey(), e.getValue().asText());
                }
            }
            final StringBuilder paramText = new StringBuilder();
            params.forEach((k, v) -> paramText.append(paramText.length() == 0 ? "" : ",").append(k).append('=').append(v));
            final JsonNode score = metric.get("score");
            final JsonNode error = metric.get("scoreError");
            final Result result = new Result(benchmark, paramText.toString(), mode, unit, forks, params,
                score != null && score.isNumber() ? score.asDouble() : Double.NaN,
                error != null && error.isNumber() ? error.asDouble() : Double.NaN);
            results.put(result.key(), result);
        }
        return new JmhRun(file, results);
    }

    private static String text(final JsonNode node, final String field, final String where) throws GateInputException
    {
        final JsonNode v = node.get(field);
        if (v == null || !v.isTextual())
        {
            throw new GateInputException(where + ": field '" + field + "' missing or not a string");
        }
        return v.asText();
    }
}
