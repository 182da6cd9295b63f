
namespace Logits.Processing;

/// <summary>A processor parameter that is either one value for every row or one value per row.</summary>
/// <typeparam name="T">The parameter type.</typeparam>
/// <remarks>
/// Converts implicitly from a single value (<c>new TopPProcessor(0.9)</c>) and from an array
/// (<c>new TopPProcessor(new[] { 0.9, 0.5 })</c>), so batches can mix settings per row.
/// </remarks>
public readonly struct PerRow<T> : IEquatable<PerRow<T>>
{
    private readonly T[]? _values;
    private readonly T _value;

    /// <summary>One value for every row.</summary>
    /// <param name="value">The value.</param>
    public PerRow(T value)
    {
        _value = value;
        _values = null;
    }

    /// <summary>One value per row; the array is copied.</summary>
    /// <param name="values">At least one value.</param>
    /// <exception cref="ArgumentException"><paramref name="values"/> is empty.</exception>
    public PerRow(IReadOnlyList<T> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            ThrowHelper.ThrowArgument(nameof(values), "must hold at least one value.");
        }

        _values = new T[values.Count];
        for (int i = 0; i < _values.Length; i++)
        {
            _values[i] = values[i];
        }

        _value = _values[0];
    }

    /// <summary>Whether the parameter holds one value per row.</summary>
    public bool IsPerRow => _values is not null;

    /// <summary>The number of per-row values (1 for a single value).</summary>
    public int Count => _values?.Length ?? 1;

    /// <summary>The value for <paramref name="row"/>.</summary>
    /// <param name="row">The row index.</param>
    /// <returns>The single value, or the row's value.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Per-row values do not cover <paramref name="row"/>.</exception>
    public T For(int row)
    {
        if (_values is null)
        {
            return _value;
        }

        if ((uint)row >= (uint)_values.Length)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(row), row, $"must be below the {_values.Length} per-row values given");
        }

        return _values[row];
    }

    /// <summary>Every distinct stored value (the single value, or each per-row value), for validation.</summary>
    /// <returns>The stored values.</returns>
    public IReadOnlyList<T> Values() => _values ?? new[] { _value };

    /// <summary>Throws unless the parameter can serve a batch of <paramref name="rows"/> rows.</summary>
    /// <param name="rows">The batch's row count.</param>
    /// <param name="processor">The processor name, for the message.</param>
    /// <exception cref="ArgumentException">Per-row values are given and their count differs from <paramref name="rows"/>.</exception>
    public void EnsureRows(int rows, string processor)
    {
        if (_values is not null)
        {
            PerRowChecks.EnsureCount(_values.Length, rows, processor);
        }
    }

    /// <summary>Converts a single value.</summary>
    /// <param name="value">The value for every row.</param>
    public static implicit operator PerRow<T>(T value) => new(value);

    /// <summary>Converts per-row values.</summary>
    /// <param name="values">One value per row.</param>
    public static implicit operator PerRow<T>(T[] values) => new(values);

    /// <inheritdoc />
    public bool Equals(PerRow<T> other) => ReferenceEquals(_values, other._values) && EqualityComparer<T>.Default.Equals(_value, other._value);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is PerRow<T> other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_values, _value);

    /// <summary>Equality of the stored values (reference equality for per-row arrays).</summary>
    /// <param name="left">The first operand.</param>
    /// <param name="right">The second operand.</param>
    /// <returns>Whether they are equal.</returns>
    public static bool operator ==(PerRow<T> left, PerRow<T> right) => left.Equals(right);

    /// <summary>Inequality of the stored values.</summary>
    /// <param name="left">The first operand.</param>
    /// <param name="right">The second operand.</param>
    /// <returns>Whether they differ.</returns>
    public static bool operator !=(PerRow<T> left, PerRow<T> right) => !left.Equals(right);
}

/// <summary>The row-count check of per-row parameters.</summary>
internal static class PerRowChecks
{
    /// <summary>Throws unless <paramref name="count"/> per-row values fit a batch of <paramref name="rows"/> rows.</summary>
    public static void EnsureCount(int count, int rows, string processor)
    {
        if (count != rows)
        {
            ThrowHelper.ThrowArgument(nameof(rows), $"is {rows}, but '{processor}' has {count} per-row values (one per row of the batch).");
        }
    }
}
