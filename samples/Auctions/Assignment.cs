using System;

namespace Logits.Samples.Auctions;

/// <summary>Maximum-weight bipartite matching with at most K edges, by successive shortest augmenting paths.</summary>
/// <remarks>
/// <para>Rows (advertisers) are matched to columns (slots); every row and column is used at most once, and a pair of
/// weight 0 is never used. Each augmentation finds the best path from an unmatched row to an unmatched column in the
/// residual graph (edge costs <c>−c_ij</c> forward, <c>+c_ij</c> backward) with Bellman–Ford, so after k augmentations
/// the matching has the largest weight among matchings of size k (which also keeps the residual graph free of negative
/// cycles). The best weight by size is concave, so stopping at K edges or at the first path without positive gain gives
/// the best matching of size at most K. Ties go to the lowest index (relaxations in index order, strict improvements
/// only), so results are deterministic.</para>
/// </remarks>
public static class Assignment
{
    /// <summary>The matching of largest total weight with at most <paramref name="maxEdges"/> edges.</summary>
    /// <param name="weights">c, <c>[rows, columns]</c>, finite and ≥ 0 (0 = pair not allowed).</param>
    /// <param name="maxEdges">K ≥ 0.</param>
    /// <returns>For each row, its column or −1.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="weights"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A weight is negative or not finite, or K is negative.</exception>
    public static int[] MaxWeightAtMostK(double[,] weights, int maxEdges)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (maxEdges < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxEdges), maxEdges, "'maxEdges' must be at least 0.");
        }

        foreach (double c in weights)
        {
            if (!(c >= 0) || double.IsPositiveInfinity(c))
            {
                throw new ArgumentOutOfRangeException(nameof(weights), c, "'weights' must hold finite values ≥ 0.");
            }
        }

        return Solve(weights, maxEdges);
    }

    internal static int[] Solve(double[,] weights, int maxEdges)
    {
        int rows = weights.GetLength(0), columns = weights.GetLength(1);
        var columnOfRow = new int[rows];
        var rowOfColumn = new int[columns];
        Array.Fill(columnOfRow, -1);
        Array.Fill(rowOfColumn, -1);
        double scale = 0;
        foreach (double c in weights)
        {
            scale += c;
        }

        // Gains below this are rounding noise of the path sums.
        double noise = 1e-14 * scale;
        int limit = Math.Min(maxEdges, Math.Min(rows, columns));

        // Nodes: rows 0..rows-1, columns rows..rows+columns-1. A path starts at an unmatched row (distance 0).
        int nodes = rows + columns;
        var distance = new double[nodes];
        var parent = new int[nodes];
        for (int size = 0; size < limit; size++)
        {
            for (int v = 0; v < nodes; v++)
            {
                distance[v] = v < rows && columnOfRow[v] < 0 ? 0 : double.PositiveInfinity;
                parent[v] = -1;
            }

            for (int round = 0; round < nodes; round++)
            {
                bool changed = false;
                for (int i = 0; i < rows; i++)
                {
                    if (double.IsPositiveInfinity(distance[i]))
                    {
                        continue;
                    }

                    for (int j = 0; j < columns; j++)
                    {
                        double c = weights[i, j];
                        if (c > 0 && columnOfRow[i] != j && distance[i] - c < distance[rows + j])
                        {
                            distance[rows + j] = distance[i] - c;
                            parent[rows + j] = i;
                            changed = true;
                        }
                    }
                }

                for (int j = 0; j < columns; j++)
                {
                    int i = rowOfColumn[j];
                    if (i >= 0 && !double.IsPositiveInfinity(distance[rows + j]) && distance[rows + j] + weights[i, j] < distance[i])
                    {
                        distance[i] = distance[rows + j] + weights[i, j];
                        parent[i] = rows + j;
                        changed = true;
                    }
                }

                if (!changed)
                {
                    break;
                }
            }

            int end = -1;
            double best = -noise;
            for (int j = 0; j < columns; j++)
            {
                if (rowOfColumn[j] < 0 && distance[rows + j] < best)
                {
                    best = distance[rows + j];
                    end = j;
                }
            }

            if (end < 0)
            {
                break; // no augmenting path with positive gain
            }

            // Flip the path: column ← row (new edge), row ← column (removed edge), ... back to an unmatched row.
            int column = end;
            while (true)
            {
                int row = parent[rows + column];
                columnOfRow[row] = column;
                rowOfColumn[column] = row;
                if (parent[row] < 0)
                {
                    break;
                }

                column = parent[row] - rows;
            }
        }

        return columnOfRow;
    }
}
