using System;

namespace Logits.Samples.ReflowToy2D;

/// <summary>A white RGB canvas over a fixed square of the plane, with dots and anti-alias-free lines.</summary>
public sealed class Canvas
{
    private readonly byte[] _rgb;
    private readonly double _min;
    private readonly double _max;

    public Canvas(int size, double min, double max)
    {
        Size = size;
        _min = min;
        _max = max;
        _rgb = new byte[size * size * 3];
        Array.Fill(_rgb, (byte)255);
    }

    public int Size { get; }

    public byte[] Pixels => _rgb;

    public void Dot(double x, double y, (byte R, byte G, byte B) colour, int radius = 1)
    {
        var (px, py) = ToPixel(x, y);
        for (int dy = -radius; dy <= radius; dy++)
        {
            for (int dx = -radius; dx <= radius; dx++)
            {
                Set(px + dx, py + dy, colour);
            }
        }
    }

    public void Line(double x0, double y0, double x1, double y1, (byte R, byte G, byte B) colour)
    {
        var (ax, ay) = ToPixel(x0, y0);
        var (bx, by) = ToPixel(x1, y1);
        int steps = Math.Max(Math.Abs(bx - ax), Math.Abs(by - ay)) + 1;
        for (int i = 0; i <= steps; i++)
        {
            double f = (double)i / steps;
            Set((int)Math.Round(ax + ((bx - ax) * f)), (int)Math.Round(ay + ((by - ay) * f)), colour);
        }
    }

    public void Save(string path) => PngWriter.Write(path, Size, Size, _rgb);

    private (int X, int Y) ToPixel(double x, double y)
    {
        double scale = (Size - 1) / (_max - _min);
        return ((int)Math.Round((x - _min) * scale), (int)Math.Round((_max - y) * scale));
    }

    private void Set(int x, int y, (byte R, byte G, byte B) colour)
    {
        if ((uint)x >= (uint)Size || (uint)y >= (uint)Size)
        {
            return;
        }

        int i = ((y * Size) + x) * 3;
        _rgb[i] = colour.R;
        _rgb[i + 1] = colour.G;
        _rgb[i + 2] = colour.B;
    }
}
