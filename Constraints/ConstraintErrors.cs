using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Npgsql;

namespace Coderd.Database.Constraints;

/// <summary>
/// Tells which constraint a failed write hit. Each method looks at <c>e</c> and every exception
/// inside it (the <see cref="Exception.InnerException"/> chain and each of an
/// <see cref="AggregateException"/>'s inner exceptions, so wrappers such as FluentMigrator's are
/// seen through) for a <see cref="PostgresException"/>, and classifies it by SQLSTATE and
/// <see cref="PostgresException.ConstraintName"/> only, never by message text.
/// </summary>
/// <remarks>
/// The <c>Is...Violation</c> methods allocate nothing, so they suit exception filters on hot paths:
/// <c>catch (PostgresException e) when (e.IsUniqueViolation(UniqueConstraint.McpServerConfigsSlugKey))</c>.
/// A constraint is identified by its SQL name; the generator refuses a schema where two tables
/// share one.
/// </remarks>
public static class ConstraintErrors
{
    // Deep enough for any real wrapping; bounds the walk should an exception graph ever loop.
    private const int MaxDepth = 32;

    /// <summary>
    /// Whether <paramref name="e"/> holds a CHECK violation (23514) of <paramref name="constraint"/>: the
    /// answer of the <c>params</c> overload given that one member, without building a span for the
    /// most common call.
    /// </summary>
    public static bool IsCheckViolation(this Exception? e, CheckConstraint constraint) =>
        e is PostgresException postgres
            ? postgres.SqlState == PostgresErrorCodes.CheckViolation && postgres.ConstraintName is { } name
              && SameName(name, CheckConstraints.SqlNameOrNull(constraint))
            : IsCheckViolation(e, [constraint]);

    /// <summary>
    /// Whether <paramref name="e"/> holds a CHECK violation (23514) of one of <paramref name="any"/>,
    /// or of any CHECK constraint when none is given. False for null and for values that are not
    /// members of <see cref="CheckConstraint"/>.
    /// </summary>
    public static bool IsCheckViolation(this Exception? e, params ReadOnlySpan<CheckConstraint> any)
    {
        var filter = new CheckFilter(any);
        return e is PostgresException postgres ? filter.Matches(postgres) : Find(e, ref filter, 0) is not null;
    }

    /// <summary>
    /// Whether <paramref name="e"/> holds a unique violation (23505) of <paramref name="constraint"/>: the
    /// answer of the <c>params</c> overload given that one member, without building a span for the
    /// most common call.
    /// </summary>
    public static bool IsUniqueViolation(this Exception? e, UniqueConstraint constraint) =>
        e is PostgresException postgres
            ? postgres.SqlState == PostgresErrorCodes.UniqueViolation && postgres.ConstraintName is { } name
              && SameName(name, UniqueConstraints.SqlNameOrNull(constraint))
            : IsUniqueViolation(e, [constraint]);

    /// <summary>
    /// Whether <paramref name="e"/> holds a unique violation (23505) of one of <paramref name="any"/>,
    /// or of any primary key, UNIQUE constraint or unique index when none is given. False for null.
    /// </summary>
    public static bool IsUniqueViolation(this Exception? e, params ReadOnlySpan<UniqueConstraint> any)
    {
        var filter = new UniqueFilter(any);
        return e is PostgresException postgres ? filter.Matches(postgres) : Find(e, ref filter, 0) is not null;
    }

    /// <summary>
    /// Whether <paramref name="e"/> holds a foreign-key violation (23503) of <paramref name="constraint"/>: the
    /// answer of the <c>params</c> overload given that one member, without building a span for the
    /// most common call.
    /// </summary>
    public static bool IsForeignKeyViolation(this Exception? e, ForeignKeyConstraint constraint) =>
        e is PostgresException postgres
            ? postgres.SqlState == PostgresErrorCodes.ForeignKeyViolation && postgres.ConstraintName is { } name
              && SameName(name, ForeignKeyConstraints.SqlNameOrNull(constraint))
            : IsForeignKeyViolation(e, [constraint]);

    /// <summary>
    /// Whether <paramref name="e"/> holds a foreign-key violation (23503) of one of
    /// <paramref name="any"/>, or of any foreign key when none is given. False for null.
    /// </summary>
    public static bool IsForeignKeyViolation(this Exception? e, params ReadOnlySpan<ForeignKeyConstraint> any)
    {
        var filter = new ForeignKeyFilter(any);
        return e is PostgresException postgres ? filter.Matches(postgres) : Find(e, ref filter, 0) is not null;
    }

    /// <summary>
    /// Finds the first integrity violation (CHECK, unique, foreign key, NOT NULL or exclusion) in
    /// <paramref name="e"/>. A constraint this build does not know is still reported, with a null
    /// typed value; nothing is thrown for it.
    /// </summary>
    /// <param name="e">The exception caught; may be null.</param>
    /// <param name="violation">The violation found; null when the method returns false.</param>
    /// <returns>False for null, for exceptions holding no <see cref="PostgresException"/>, and for other SQLSTATEs.</returns>
    public static bool TryGetConstraintViolation(this Exception? e, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ConstraintViolation? violation)
    {
        var filter = new AnyViolationFilter();
        var error = Find(e, ref filter, 0);
        violation = error is null ? null : new ConstraintViolation(KindOf(error.SqlState), error);
        return violation is not null;
    }

    private static ConstraintKind KindOf(string sqlState) => sqlState switch
    {
        PostgresErrorCodes.CheckViolation => ConstraintKind.Check,
        PostgresErrorCodes.UniqueViolation => ConstraintKind.Unique,
        PostgresErrorCodes.ForeignKeyViolation => ConstraintKind.ForeignKey,
        PostgresErrorCodes.NotNullViolation => ConstraintKind.NotNull,
        _ => ConstraintKind.Exclusion,
    };

    /// <summary>Depth-first, outermost first: the exception itself, then what it wraps.</summary>
    private static PostgresException? Find<TFilter>(Exception? e, scoped ref TFilter filter, int depth)
        where TFilter : IFilter, allows ref struct
    {
        for (; e is not null && depth < MaxDepth; e = e.InnerException, depth++)
        {
            if (e is PostgresException postgres)
            {
                if (filter.Matches(postgres)) return postgres;
            }
            else if (e is AggregateException aggregate)
            {
                // Its InnerException is only the first of these; indexing avoids an enumerator.
                var inner = aggregate.InnerExceptions;
                for (var i = 0; i < inner.Count; i++)
                {
                    if (Find(inner[i], ref filter, depth + 1) is { } found) return found;
                }

                return null;
            }
        }

        return null;
    }

    /// <summary>
    /// Ordinal equality, inlined into the caller with the widest vectors the machine has. The
    /// names are a few dozen characters, where the call into <see cref="string.Equals(string?, string?)"/>
    /// costs as much as comparing them; this keeps <c>Is*Violation</c> near a hand-written
    /// comparison with a literal, which the JIT unrolls the same way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool SameName(string name, string? candidate)
    {
        if (candidate is null || name.Length != candidate.Length) return false;
        ref var a = ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetReference(name.AsSpan()));
        ref var b = ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetReference(candidate.AsSpan()));
        var length = (nuint)name.Length;

        // Whole blocks, then one block ending at the last character (overlapping the one before).
        if (Vector512.IsHardwareAccelerated && length >= (nuint)Vector512<ushort>.Count)
        {
            var last = length - (nuint)Vector512<ushort>.Count;
            for (nuint i = 0; i < last; i += (nuint)Vector512<ushort>.Count)
            {
                if (Vector512.LoadUnsafe(ref a, i) != Vector512.LoadUnsafe(ref b, i)) return false;
            }

            return Vector512.LoadUnsafe(ref a, last) == Vector512.LoadUnsafe(ref b, last);
        }

        if (Vector256.IsHardwareAccelerated && length >= (nuint)Vector256<ushort>.Count)
        {
            var last = length - (nuint)Vector256<ushort>.Count;
            for (nuint i = 0; i < last; i += (nuint)Vector256<ushort>.Count)
            {
                if (Vector256.LoadUnsafe(ref a, i) != Vector256.LoadUnsafe(ref b, i)) return false;
            }

            return Vector256.LoadUnsafe(ref a, last) == Vector256.LoadUnsafe(ref b, last);
        }

        if (Vector128.IsHardwareAccelerated && length >= (nuint)Vector128<ushort>.Count)
        {
            var last = length - (nuint)Vector128<ushort>.Count;
            for (nuint i = 0; i < last; i += (nuint)Vector128<ushort>.Count)
            {
                if (Vector128.LoadUnsafe(ref a, i) != Vector128.LoadUnsafe(ref b, i)) return false;
            }

            return Vector128.LoadUnsafe(ref a, last) == Vector128.LoadUnsafe(ref b, last);
        }

        return string.Equals(name, candidate, StringComparison.Ordinal);
    }

    private interface IFilter
    {
        bool Matches(PostgresException e);
    }

    private readonly ref struct CheckFilter(ReadOnlySpan<CheckConstraint> any) : IFilter
    {
        private readonly ReadOnlySpan<CheckConstraint> _any = any;

        public bool Matches(PostgresException e)
        {
            if (e.SqlState != PostgresErrorCodes.CheckViolation) return false;
            if (_any.IsEmpty) return true;
            var name = e.ConstraintName;
            if (name is null) return false;
            foreach (var c in _any)
            {
                if (SameName(name, CheckConstraints.SqlNameOrNull(c))) return true;
            }

            return false;
        }
    }

    private readonly ref struct UniqueFilter(ReadOnlySpan<UniqueConstraint> any) : IFilter
    {
        private readonly ReadOnlySpan<UniqueConstraint> _any = any;

        public bool Matches(PostgresException e)
        {
            if (e.SqlState != PostgresErrorCodes.UniqueViolation) return false;
            if (_any.IsEmpty) return true;
            var name = e.ConstraintName;
            if (name is null) return false;
            foreach (var c in _any)
            {
                if (SameName(name, UniqueConstraints.SqlNameOrNull(c))) return true;
            }

            return false;
        }
    }

    private readonly ref struct ForeignKeyFilter(ReadOnlySpan<ForeignKeyConstraint> any) : IFilter
    {
        private readonly ReadOnlySpan<ForeignKeyConstraint> _any = any;

        public bool Matches(PostgresException e)
        {
            if (e.SqlState != PostgresErrorCodes.ForeignKeyViolation) return false;
            if (_any.IsEmpty) return true;
            var name = e.ConstraintName;
            if (name is null) return false;
            foreach (var c in _any)
            {
                if (SameName(name, ForeignKeyConstraints.SqlNameOrNull(c))) return true;
            }

            return false;
        }
    }

    private readonly struct AnyViolationFilter : IFilter
    {
        public bool Matches(PostgresException e) => e.SqlState is
            PostgresErrorCodes.CheckViolation or PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.ForeignKeyViolation
            or PostgresErrorCodes.NotNullViolation or PostgresErrorCodes.ExclusionViolation;
    }
}
