// Deliberate layer violations for LayerTests.TheChecker_CatchesEveryKindOfReference: the fixture's rule is that
// Fixture.Low may import nothing of the fixture and Fixture.High may import Low. Every type of Low below except
// Clean references High in one way, without a `using` of High (fully qualified), so that a source scan of usings
// would miss them all. Nothing runs this code; the checker only reads its metadata.

#pragma warning disable CA1812, CS0649, CS0169, IDE0051, IDE0052, IDE0060 // never instantiated / never used: metadata only

namespace Rnn.Simd.Tests.Architecture.Fixture.High
{
    public class Thing
    {
        public Low.Clean? Below; // High -> Low is allowed
    }

    public class Base;

    public interface IMarker;

    public static class Helper
    {
        public static int Run() => 1;

        public static int Counter;
    }

    [AttributeUsage(AttributeTargets.All)]
    public sealed class MarkAttribute : Attribute;

    public sealed class Failure : Exception;
}

namespace Rnn.Simd.Tests.Architecture.Fixture.Low
{
    public class Clean
    {
        public int Value;

        public int Twice() => 2 * Value + Math.Abs(Value);
    }

    public class FieldType
    {
        public global::Rnn.Simd.Tests.Architecture.Fixture.High.Thing? Field;
    }

    public class ArrayOfGenericField
    {
        public List<global::Rnn.Simd.Tests.Architecture.Fixture.High.Thing>[]? Field;
    }

    public class Parameter
    {
        public int Take(global::Rnn.Simd.Tests.Architecture.Fixture.High.Thing thing) => thing.GetHashCode();
    }

    public class BaseType : global::Rnn.Simd.Tests.Architecture.Fixture.High.Base;

    public class Interface : global::Rnn.Simd.Tests.Architecture.Fixture.High.IMarker;

    public class Constraint<T> where T : global::Rnn.Simd.Tests.Architecture.Fixture.High.IMarker;

    [global::Rnn.Simd.Tests.Architecture.Fixture.High.Mark]
    public class Attributed;

    public class StaticCall
    {
        public int Call() => global::Rnn.Simd.Tests.Architecture.Fixture.High.Helper.Run();
    }

    public class StaticField
    {
        public int Read() => global::Rnn.Simd.Tests.Architecture.Fixture.High.Helper.Counter;
    }

    public class Typeof
    {
        public Type Get() => typeof(global::Rnn.Simd.Tests.Architecture.Fixture.High.Base);
    }

    public class GenericArgument
    {
        public int Count() => new List<global::Rnn.Simd.Tests.Architecture.Fixture.High.Base>().Count;
    }

    public class Lambda
    {
        // The call is in a compiler-generated closure class nested in Lambda: it counts for Lambda.
        public Func<int> Make() => () => global::Rnn.Simd.Tests.Architecture.Fixture.High.Helper.Run() + 1;
    }

    public class Catch
    {
        public int Guard()
        {
            try { return int.Parse("1", System.Globalization.CultureInfo.InvariantCulture); }
            catch (global::Rnn.Simd.Tests.Architecture.Fixture.High.Failure) { return 0; }
        }
    }

    public class Nested
    {
        public class Inner
        {
            public object Make() => new global::Rnn.Simd.Tests.Architecture.Fixture.High.Base();
        }
    }
}
