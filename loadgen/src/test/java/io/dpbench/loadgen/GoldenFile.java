package io.dpbench.loadgen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.fail;

/**
 * A checked-in expectation file of the golden-output tests: one line per case, {@code NAME SHA256 DETAIL}, where
 * DETAIL (the rest of the line) is the case's normalised counters, written literally so that a failure shows which
 * counter moved. Lines starting with {@code #} are comments. With {@code -Ddpbench.golden.record=true} the test
 * writes the file from what the code produces now instead of comparing (see {@link ReplayGoldenTest}).
 */
final class GoldenFile
{
    static final String RECORD_PROPERTY = "dpbench.golden.record";

    private final Path file;
    private final String header;
    private final Map<String, String> actual = new LinkedHashMap<>();

    /** {@code name} under the module's src/test/resources/golden/ (the source tree, so that recording updates it). */
    GoldenFile(final String name, final String header)
    {
        final String basedir = System.getProperty("basedir", System.getProperty("user.dir"));
        this.file = Path.of(basedir, "src", "test", "resources", "golden", name);
        this.header = header;
    }

    static boolean recording()
    {
        return Boolean.getBoolean(RECORD_PROPERTY);
    }

    Path file()
    {
        return file;
    }

    /** One case's result; names are unique and contain no white space. */
    void put(final String name, final String sha256, final String detail)
    {
        if (name.chars().anyMatch(Character::isWhitespace) || sha256.chars().anyMatch(Character::isWhitespace))
        {
            throw new IllegalArgumentException("white space in a case name or hash: " + name);
        }
        if (detail.indexOf('\n') >= 0 || detail.indexOf('\r') >= 0)
        {
            throw new IllegalArgumentException("a line break in the detail of " + name);
        }
        if (actual.putIfAbsent(name, sha256 + " " + detail) != null)
        {
            throw new IllegalArgumentException("case " + name + " recorded twice");
        }
    }

    Map<String, String> actual()
    {
        return actual;
    }

    /** Record (with the system property) or compare every case; a mismatch lists every differing case. */
    void verify() throws IOException
    {
        if (recording())
        {
            final List<String> lines = new ArrayList<>();
            for (final String h : header.split("\n"))
            {
                lines.add("# " + h);
            }
            actual.forEach((name, value) -> lines.add(name + " " + value));
            Files.createDirectories(file.getParent());
            Files.write(file, lines, StandardCharsets.UTF_8);
            System.out.println("golden: recorded " + actual.size() + " cases in " + file);
            return;
        }
        if (!Files.exists(file))
        {
            fail("no expectation file " + file + "; record it with -D" + RECORD_PROPERTY + "=true");
        }
        final Map<String, String> expected = new LinkedHashMap<>();
        for (final String line : Files.readAllLines(file, StandardCharsets.UTF_8))
        {
            if (line.isBlank() || line.startsWith("#"))
            {
                continue;
            }
            final int space = line.indexOf(' ');
            expected.put(line.substring(0, space), line.substring(space + 1));
        }
        final StringBuilder report = new StringBuilder();
        int differing = 0;
        for (final Map.Entry<String, String> e : expected.entrySet())
        {
            final String now = actual.get(e.getKey());
            if (!e.getValue().equals(now))
            {
                differing++;
                report.append("\n  ").append(e.getKey()).append("\n    expected ").append(e.getValue())
                    .append("\n    actual   ").append(now == null ? "(case not run)" : now);
            }
        }
        for (final Map.Entry<String, String> e : actual.entrySet())
        {
            if (!expected.containsKey(e.getKey()))
            {
                differing++;
                report.append("\n  ").append(e.getKey()).append(" (not in the expectation file)\n    actual   ")
                    .append(e.getValue());
            }
        }
        if (differing > 0)
        {
            fail(differing + " of " + expected.size() + " golden cases differ from " + file + " (if the change is "
                + "intended, re-record with -D" + RECORD_PROPERTY + "=true and review the diff):" + report);
        }
    }

    static String sha256(final byte[] bytes)
    {
        try
        {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    static String sha256(final Path file) throws IOException
    {
        return sha256(Files.readAllBytes(file));
    }
}
