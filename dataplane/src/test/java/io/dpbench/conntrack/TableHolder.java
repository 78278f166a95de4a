package io.dpbench.conntrack;

import java.nio.file.Path;

/** A second process for {@code TableFileTest}: holds a persisted table open until its stdin closes. */
public final class TableHolder
{
    private TableHolder()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        try (ConntrackTable table = ConntrackTable.persisted(Path.of(args[0]), 1024))
        {
            System.out.println("holding " + table.primaryCount());
            System.out.flush();
            while (System.in.read() >= 0)
            {
                // until the test closes our stdin (or dies, which closes it too)
            }
        }
    }
}
