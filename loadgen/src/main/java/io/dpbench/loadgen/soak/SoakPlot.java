package io.dpbench.loadgen.soak;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

import javax.imageio.ImageIO;

/** soak.png: the series of a soak, one panel each (memory, heap after GC, descriptors, conntrack, rates), over time. */
public final class SoakPlot
{
    private static final int WIDTH = 1000;
    private static final int HEIGHT = 300;

    /** Each panel's y range so far (the markers span it). */
    private final Map<XYChart, double[]> ranges = new IdentityHashMap<>();

    private SoakPlot()
    {
    }

    public static void write(final SoakResult result, final String title, final Path png) throws IOException
    {
        new SoakPlot().draw(result, title, png);
    }

    private void draw(final SoakResult result, final String title, final Path png) throws IOException
    {
        final List<SoakDriver.Sample> s = result.samples();
        final List<XYChart> panels = new ArrayList<>();
        XYChart c = chart(title + ": node RSS", "MiB");
        series(c, s, "anonymous", x -> x.process().rssAnonKib() < 0 ? Double.NaN : x.process().rssAnonKib() / 1024.0);
        series(c, s, "file-backed (conntrack table's mapped file, jars)", x -> x.process().rssFileKib() < 0 ? Double.NaN
            : x.process().rssFileKib() / 1024.0);
        series(c, s, "shmem", x -> x.process().rssShmemKib() < 0 ? Double.NaN : x.process().rssShmemKib() / 1024.0);
        panels.add(c);
        c = chart("node heap after the last GC", "MiB");
        series(c, s, "heap after GC", x -> x.heapAfterGc() < 0 ? Double.NaN : x.heapAfterGc() / 1048576.0);
        panels.add(c);
        c = chart("node file descriptors", "open fds");
        series(c, s, "fds", x -> x.process().fds() < 0 ? Double.NaN : x.process().fds());
        panels.add(c);
        c = chart("conntrack entries (connections)", "entries");
        series(c, s, "conntrack", x -> x.conntrack() < 0 ? Double.NaN : x.conntrack());
        panels.add(c);
        c = chart("frames per second (load generator) and node drops", "frames/s");
        rate(c, s, "sent", SoakDriver.Sample::genSent);
        rate(c, s, "received", SoakDriver.Sample::genReceived);
        rate(c, s, "node drops", SoakDriver.Sample::nodeDropped);
        panels.add(c);
        for (final XYChart p : panels)
        {
            marker(p, result.killedAt(), "kill -9", Color.RED);
            marker(p, result.resumedAt(), "node 2 up", Color.GRAY);
        }
        final BufferedImage all = new BufferedImage(WIDTH, HEIGHT * panels.size(), BufferedImage.TYPE_INT_RGB);
        final Graphics2D g = all.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, all.getWidth(), all.getHeight());
        for (int i = 0; i < panels.size(); i++)
        {
            g.drawImage(BitmapEncoder.getBufferedImage(panels.get(i)), 0, i * HEIGHT, null);
        }
        g.dispose();
        ImageIO.write(all, "png", png.toFile());
    }

    private static XYChart chart(final String title, final String y)
    {
        final XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("minutes")
            .yAxisTitle(y).build();
        c.getStyler().setMarkerSize(0);
        c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideSW);
        return c;
    }

    private void series(final XYChart c, final List<SoakDriver.Sample> s, final String name,
        final ToDoubleFunction<SoakDriver.Sample> f)
    {
        final List<Double> x = new ArrayList<>();
        final List<Double> y = new ArrayList<>();
        for (final SoakDriver.Sample v : s)
        {
            final double d = f.applyAsDouble(v);
            if (!Double.isNaN(d))
            {
                x.add(v.t() / 60);
                y.add(d);
            }
        }
        add(c, name, x, y);
    }

    private void rate(final XYChart c, final List<SoakDriver.Sample> s, final String name,
        final java.util.function.ToLongFunction<SoakDriver.Sample> f)
    {
        final List<Double> x = new ArrayList<>();
        final List<Double> y = new ArrayList<>();
        for (int i = 1; i < s.size(); i++)
        {
            final long a = f.applyAsLong(s.get(i - 1));
            final long b = f.applyAsLong(s.get(i));
            final double dt = s.get(i).t() - s.get(i - 1).t();
            if (a >= 0 && b >= a && dt > 0 && s.get(i).pid() == s.get(i - 1).pid())
            {
                x.add(s.get(i).t() / 60);
                y.add((b - a) / dt);
            }
        }
        add(c, name, x, y);
    }

    /** A series, when it has points, and the chart's y range widened to them (for the markers). */
    private void add(final XYChart c, final String name, final List<Double> x, final List<Double> y)
    {
        if (x.isEmpty())
        {
            return;
        }
        c.addSeries(name, x, y).setMarker(SeriesMarkers.NONE);
        final double[] r = ranges.computeIfAbsent(c, k -> new double[]{Double.MAX_VALUE, -Double.MAX_VALUE});
        for (final double v : y)
        {
            r[0] = Math.min(r[0], v);
            r[1] = Math.max(r[1], v);
        }
    }

    private void marker(final XYChart c, final double t, final String name, final Color color)
    {
        final double[] r = ranges.get(c);
        if (t < 0 || r == null)
        {
            return;
        }
        final XYSeries m = c.addSeries(name, new double[]{t / 60, t / 60}, new double[]{r[0], r[1]});
        m.setMarker(SeriesMarkers.NONE);
        m.setLineColor(color);
    }
}
