using System.Numerics;
using Rnn.Simd.Kernels;
using Rnn.Simd.Tests.Infrastructure;
using Rnn.Simd.Tests.Reference;
using static Rnn.Simd.Tests.Infrastructure.TestHelpers;

namespace Rnn.Simd.Tests.Kernels;

/// <summary>The unary activation kernels of <see cref="VectorMath"/> (the ones that take an <see cref="IsaPath"/>).</summary>
public enum ActivationOp { Tanh, Sigmoid, Relu, TanhDerivative, SigmoidDerivative, ReluDerivative }

/// <summary>The fused backward kernels of <see cref="VectorMath"/>: dInput = f(y, dOutput).</summary>
public enum BackwardOp { TanhBackward, SigmoidBackward, ReluBackward }

/// <summary>The TensorPrimitives-backed element-wise kernels of <see cref="VectorMath"/> (no path argument).</summary>
public enum ArithmeticOp { Add, Multiply, Scale }

/// <summary>
/// Every <see cref="VectorMath"/> operation, float and double, on every supported path, against
/// <see cref="ScalarReference"/>: every length 0..256 and a few odd large ones; out of place, in place, and into a
/// longer destination whose tail must stay untouched. Plus accuracy on a dense grid, exact limits, NaN propagation,
/// bitwise agreement of the float paths, and argument validation.
/// </summary>
public class ElementwiseTests
{
    /// <summary>Guard elements before the destination and after its end; they must never be written.</summary>
    private const int Guard = 3;

    /// <summary>Extra destination elements beyond the input length; they must never be written.</summary>
    private const int Tail = 5;

    /// <summary>0..256 (every remainder of every vector width and unroll factor) and some odd larger lengths.</summary>
    public static readonly int[] Lengths = BuildLengths();

    private static int[] BuildLengths()
    {
        var l = new List<int>();
        for (int i = 0; i <= 256; i++) l.Add(i);
        l.AddRange([1000, 4097, 10007]);
        return l.ToArray();
    }

    public static TheoryData<ActivationOp, IsaPath> ActivationCases()
    {
        var d = new TheoryData<ActivationOp, IsaPath>();
        foreach (ActivationOp op in Enum.GetValues<ActivationOp>())
            foreach (IsaPath p in TestPaths.All) d.Add(op, p);
        return d;
    }

    public static TheoryData<BackwardOp, IsaPath> BackwardCases()
    {
        var d = new TheoryData<BackwardOp, IsaPath>();
        foreach (BackwardOp op in Enum.GetValues<BackwardOp>())
            foreach (IsaPath p in TestPaths.All) d.Add(op, p);
        return d;
    }

    public static TheoryData<IsaPath> Paths() => SupportedPaths();

    // =======================================================================================================
    // Dispatch and reference
    // =======================================================================================================

    private static void Run<T>(ActivationOp op, ReadOnlySpan<T> x, Span<T> d, IsaPath path)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        switch (op)
        {
            case ActivationOp.Tanh: VectorMath.Tanh(x, d, path); break;
            case ActivationOp.Sigmoid: VectorMath.Sigmoid(x, d, path); break;
            case ActivationOp.Relu: VectorMath.Relu(x, d, path); break;
            case ActivationOp.TanhDerivative: VectorMath.TanhDerivative(x, d, path); break;
            case ActivationOp.SigmoidDerivative: VectorMath.SigmoidDerivative(x, d, path); break;
            case ActivationOp.ReluDerivative: VectorMath.ReluDerivative(x, d, path); break;
            default: throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    private static void Run<T>(BackwardOp op, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, IsaPath path)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BackwardOp.TanhBackward: VectorMath.TanhBackward(y, dy, dx, path); break;
            case BackwardOp.SigmoidBackward: VectorMath.SigmoidBackward(y, dy, dx, path); break;
            case BackwardOp.ReluBackward: VectorMath.ReluBackward(y, dy, dx, path); break;
            default: throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    private static double Reference(ActivationOp op, double x) => op switch
    {
        ActivationOp.Tanh => ScalarReference.Tanh(x),
        ActivationOp.Sigmoid => ScalarReference.Sigmoid(x),
        ActivationOp.Relu => ScalarReference.Relu(x),
        ActivationOp.TanhDerivative => ScalarReference.TanhDerivative(x),
        ActivationOp.SigmoidDerivative => ScalarReference.SigmoidDerivative(x),
        ActivationOp.ReluDerivative => ScalarReference.ReluDerivative(x),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    private static double Reference(BackwardOp op, double y, double dy) => op switch
    {
        BackwardOp.TanhBackward => ScalarReference.TanhBackward(y, dy),
        BackwardOp.SigmoidBackward => ScalarReference.SigmoidBackward(y, dy),
        BackwardOp.ReluBackward => ScalarReference.ReluBackward(y, dy),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>
    /// Allowed |kernel - reference| for one element. tanh / σ: the documented accuracy (1e-6 float, 1e-14 double).
    /// The ReLU family selects, so it is exact. The polynomial derivatives are a few roundings of T in the kernel
    /// (1 for the FMA 1 - y², 2 for y(1 - y)) plus a few roundings of double in the reference, each bounded by
    /// γ_r · (sum of the magnitudes of the terms), e.g. 1 + y² for 1 - y².
    /// </summary>
    private static double Tolerance<T>(ActivationOp op, double x) where T : IBinaryFloatingPointIeee754<T>
    {
        double u = UnitRoundoff<T>();
        bool isFloat = typeof(T) == typeof(float);
        return op switch
        {
            ActivationOp.Tanh or ActivationOp.Sigmoid => isFloat ? 1e-6 : 1e-14,
            ActivationOp.Relu or ActivationOp.ReluDerivative => 0,
            ActivationOp.TanhDerivative => (Gamma(1, u) + Gamma(2, UDouble)) * (1 + x * x),
            ActivationOp.SigmoidDerivative => (Gamma(2, u) + Gamma(2, UDouble)) * Math.Abs(x) * (1 + Math.Abs(x)),
            _ => throw new ArgumentOutOfRangeException(nameof(op)),
        };
    }

    /// <summary>tanh backward: 2 roundings in the kernel (FMA, product), 3 in the reference; sigmoid: 3 and 3; ReLU: exact.</summary>
    private static double Tolerance<T>(BackwardOp op, double y, double dy) where T : IBinaryFloatingPointIeee754<T>
    {
        double u = UnitRoundoff<T>();
        return op switch
        {
            BackwardOp.TanhBackward => (Gamma(2, u) + Gamma(3, UDouble)) * Math.Abs(dy) * (1 + y * y),
            BackwardOp.SigmoidBackward => (Gamma(3, u) + Gamma(3, UDouble)) * Math.Abs(dy) * Math.Abs(y) * (1 + Math.Abs(y)),
            BackwardOp.ReluBackward => 0,
            _ => throw new ArgumentOutOfRangeException(nameof(op)),
        };
    }

    /// <summary>Inputs that exercise each op: saturation for tanh / σ, exact zeros (the kink) for the ReLU family.</summary>
    private static T[] Input<T>(ActivationOp op, Random rng, int n) where T : IBinaryFloatingPointIeee754<T>
    {
        T[] x = op switch
        {
            ActivationOp.Tanh => Uniform<T>(rng, n, -10, 10),
            ActivationOp.Sigmoid => Uniform<T>(rng, n, -20, 20),
            ActivationOp.TanhDerivative => Uniform<T>(rng, n, -1, 1),
            ActivationOp.SigmoidDerivative => Uniform<T>(rng, n, 0, 1),
            _ => Uniform<T>(rng, n, -1, 1),
        };
        if (op is ActivationOp.Relu or ActivationOp.ReluDerivative)
            for (int i = 0; i < n; i += 7) x[i] = T.Zero;
        return x;
    }

    private static (T[] Y, T[] Dy) Input<T>(BackwardOp op, Random rng, int n) where T : IBinaryFloatingPointIeee754<T>
    {
        T[] y = op switch
        {
            BackwardOp.SigmoidBackward => Uniform<T>(rng, n, 0, 1),
            _ => Uniform<T>(rng, n, -1, 1),
        };
        if (op == BackwardOp.ReluBackward)
            for (int i = 0; i < n; i += 7) y[i] = T.Zero;
        return (y, Uniform<T>(rng, n, -2, 2));
    }

    // =======================================================================================================
    // Activations and derivatives: every length, out of place / longer destination / in place
    // =======================================================================================================

    [Theory, MemberData(nameof(ActivationCases))]
    public void Activation_Float_MatchesReference_EveryLength(ActivationOp op, IsaPath path) => CheckActivation<float>(op, path);

    [Theory, MemberData(nameof(ActivationCases))]
    public void Activation_Double_MatchesReference_EveryLength(ActivationOp op, IsaPath path) => CheckActivation<double>(op, path);

    private static void CheckActivation<T>(ActivationOp op, IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        foreach (int n in Lengths)
        {
            var rng = new Random(7919 * (int)op + n);
            T[] x = Input<T>(op, rng, n);
            T[] xCopy = x.ToArray();
            var expected = new double[n];
            var tol = new double[n];
            for (int i = 0; i < n; i++)
            {
                expected[i] = Reference(op, D(x[i]));
                tol[i] = Tolerance<T>(op, D(x[i]));
            }
            string what = $"{op}<{Name<T>()}> on {path}, n = {n}";

            // Out of place, destination exactly n long, surrounded by guards.
            T[] buf = Sentinels<T>(Guard + n + Guard);
            Run<T>(op, x, buf.AsSpan(Guard, n), path);
            AssertClose(expected, tol, buf.AsSpan(Guard, n), what + ", out of place");
            AssertSentinels(buf, 0, Guard, what + ", guard before destination");
            AssertSentinels(buf, Guard + n, Guard, what + ", guard after destination");
            AssertBitwiseEqual<T>(xCopy, x, what + ": input modified");

            // Longer destination: the Tail elements after n stay untouched.
            buf = Sentinels<T>(Guard + n + Tail + Guard);
            Run<T>(op, x, buf.AsSpan(Guard, n + Tail), path);
            AssertClose(expected, tol, buf.AsSpan(Guard, n), what + ", longer destination");
            AssertSentinels(buf, 0, Guard, what + ", guard before longer destination");
            AssertSentinels(buf, Guard + n, Tail + Guard, what + ", tail of longer destination");

            // In place: destination is the very same span as the input.
            T[] inPlace = x.ToArray();
            Run<T>(op, inPlace, inPlace, path);
            AssertClose(expected, tol, inPlace, what + ", in place");
        }
    }

    [Theory, MemberData(nameof(BackwardCases))]
    public void Backward_Float_MatchesReference_EveryLength(BackwardOp op, IsaPath path) => CheckBackward<float>(op, path);

    [Theory, MemberData(nameof(BackwardCases))]
    public void Backward_Double_MatchesReference_EveryLength(BackwardOp op, IsaPath path) => CheckBackward<double>(op, path);

    private static void CheckBackward<T>(BackwardOp op, IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        foreach (int n in Lengths)
        {
            var rng = new Random(104729 * (int)op + n);
            (T[] y, T[] dy) = Input<T>(op, rng, n);
            T[] yCopy = y.ToArray(), dyCopy = dy.ToArray();
            var expected = new double[n];
            var tol = new double[n];
            for (int i = 0; i < n; i++)
            {
                expected[i] = Reference(op, D(y[i]), D(dy[i]));
                tol[i] = Tolerance<T>(op, D(y[i]), D(dy[i]));
            }
            string what = $"{op}<{Name<T>()}> on {path}, n = {n}";

            T[] buf = Sentinels<T>(Guard + n + Guard);
            Run<T>(op, y, dy, buf.AsSpan(Guard, n), path);
            AssertClose(expected, tol, buf.AsSpan(Guard, n), what + ", out of place");
            AssertSentinels(buf, 0, Guard, what + ", guard before dInput");
            AssertSentinels(buf, Guard + n, Guard, what + ", guard after dInput");
            AssertBitwiseEqual<T>(yCopy, y, what + ": y modified");
            AssertBitwiseEqual<T>(dyCopy, dy, what + ": dOutput modified");

            buf = Sentinels<T>(Guard + n + Tail + Guard);
            Run<T>(op, y, dy, buf.AsSpan(Guard, n + Tail), path);
            AssertClose(expected, tol, buf.AsSpan(Guard, n), what + ", longer dInput");
            AssertSentinels(buf, 0, Guard, what + ", guard before longer dInput");
            AssertSentinels(buf, Guard + n, Tail + Guard, what + ", tail of longer dInput");

            // In place over dOutput (the usual use: the gradient is transformed where it lies) ...
            T[] inPlace = dy.ToArray();
            Run<T>(op, y, inPlace, inPlace, path);
            AssertClose(expected, tol, inPlace, what + ", in place over dOutput");

            // ... and over y.
            inPlace = y.ToArray();
            Run<T>(op, inPlace, dy, inPlace, path);
            AssertClose(expected, tol, inPlace, what + ", in place over y");
        }
    }

    // =======================================================================================================
    // TensorPrimitives-backed arithmetic: exact (one correctly rounded operation per element)
    // =======================================================================================================

    public static TheoryData<ArithmeticOp> ArithmeticCases()
    {
        var d = new TheoryData<ArithmeticOp>();
        foreach (ArithmeticOp op in Enum.GetValues<ArithmeticOp>()) d.Add(op);
        return d;
    }

    [Theory, MemberData(nameof(ArithmeticCases))]
    public void Arithmetic_Float_MatchesReference_EveryLength(ArithmeticOp op) => CheckArithmetic<float>(op);

    [Theory, MemberData(nameof(ArithmeticCases))]
    public void Arithmetic_Double_MatchesReference_EveryLength(ArithmeticOp op) => CheckArithmetic<double>(op);

    private static void Run<T>(ArithmeticOp op, T alpha, ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        switch (op)
        {
            case ArithmeticOp.Add: VectorMath.Add(x, y, d); break;
            case ArithmeticOp.Multiply: VectorMath.Multiply(x, y, d); break;
            case ArithmeticOp.Scale: VectorMath.Scale(alpha, x, d); break;
            default: throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    /// <summary>
    /// x + y, x · y and alpha · x are single IEEE operations, so the kernel must return exactly the correctly rounded
    /// result. For float the reference computes in double and rounds once to float; that double rounding is innocuous
    /// for +, - and · because 53 ≥ 2·24 + 2 (Figueroa), so the comparison is bitwise for both types.
    /// </summary>
    private static void CheckArithmetic<T>(ArithmeticOp op) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T alpha = Of<T>(-1.7);
        foreach (int n in Lengths)
        {
            var rng = new Random(31337 * (int)op + n);
            T[] x = Uniform<T>(rng, n, -4, 4), y = Uniform<T>(rng, n, -4, 4);
            double[] xd = ToDouble<T>(x), yd = ToDouble<T>(y), ed = new double[n];
            switch (op)
            {
                case ArithmeticOp.Add: ScalarReference.Add(xd, yd, ed); break;
                case ArithmeticOp.Multiply: ScalarReference.Multiply(xd, yd, ed); break;
                default: ScalarReference.Scale(D(alpha), xd, ed); break;
            }
            var expected = new T[n];
            for (int i = 0; i < n; i++) expected[i] = Of<T>(ed[i]);
            string what = $"{op}<{Name<T>()}>, n = {n}";

            T[] buf = Sentinels<T>(Guard + n + Guard);
            Run<T>(op, alpha, x, y, buf.AsSpan(Guard, n));
            AssertBitwiseEqual<T>(expected, buf.AsSpan(Guard, n), what + ", out of place");
            AssertSentinels(buf, 0, Guard, what + ", guard before destination");
            AssertSentinels(buf, Guard + n, Guard, what + ", guard after destination");

            buf = Sentinels<T>(Guard + n + Tail + Guard);
            Run<T>(op, alpha, x, y, buf.AsSpan(Guard, n + Tail));
            AssertBitwiseEqual<T>(expected, buf.AsSpan(Guard, n), what + ", longer destination");
            AssertSentinels(buf, Guard + n, Tail + Guard, what + ", tail of longer destination");

            T[] inPlace = x.ToArray();
            Run<T>(op, alpha, inPlace, y, inPlace);
            AssertBitwiseEqual<T>(expected, inPlace, what + ", in place over x");

            if (op != ArithmeticOp.Scale)
            {
                inPlace = y.ToArray();
                Run<T>(op, alpha, x, inPlace, inPlace);
                AssertBitwiseEqual<T>(expected, inPlace, what + ", in place over y");
            }
        }
    }

    [Fact]
    public void Axpy_Float_MatchesReference_EveryLength() => CheckAxpy<float>();

    [Fact]
    public void Axpy_Double_MatchesReference_EveryLength() => CheckAxpy<double>();

    /// <summary>
    /// y += alpha · x accumulates into y, so y's own length is the length: there is no "longer destination" case.
    /// The kernel may round the product and the sum separately (2 roundings, γ_2 (|αx| + |y|)); the reference is
    /// one fused, correctly rounded double operation (at most u_double of the same magnitude).
    /// </summary>
    private static void CheckAxpy<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T alpha = Of<T>(0.3);
        double a = D(alpha), u = UnitRoundoff<T>();
        foreach (int n in Lengths)
        {
            var rng = new Random(4242 + n);
            T[] x = Uniform<T>(rng, n, -4, 4), y0 = Uniform<T>(rng, n, -4, 4);
            double[] expected = ToDouble<T>(y0);
            ScalarReference.Axpy(a, ToDouble<T>(x), expected);
            var tol = new double[n];
            for (int i = 0; i < n; i++)
                tol[i] = (Gamma(2, u) + UDouble) * (Math.Abs(a * D(x[i])) + Math.Abs(D(y0[i])));
            string what = $"Axpy<{Name<T>()}>, n = {n}";

            T[] buf = Sentinels<T>(Guard + n + Guard);
            y0.CopyTo(buf, Guard);
            VectorMath.Axpy(alpha, x, buf.AsSpan(Guard, n));
            AssertClose(expected, tol, buf.AsSpan(Guard, n), what);
            AssertSentinels(buf, 0, Guard, what + ", guard before y");
            AssertSentinels(buf, Guard + n, Guard, what + ", guard after y");

            // x and y the same span: y = y + alpha·y.
            T[] same = x.ToArray();
            double[] sameExpected = ToDouble<T>(x);
            ScalarReference.Axpy(a, ToDouble<T>(x), sameExpected);
            for (int i = 0; i < n; i++) tol[i] = (Gamma(2, u) + UDouble) * (Math.Abs(a) + 1) * Math.Abs(D(x[i]));
            VectorMath.Axpy(alpha, same, same);
            AssertClose(sameExpected, tol, same, what + ", x and y the same span");
        }
    }

    [Fact]
    public void Fill_Float_SetsExactlyTheDestination() => CheckFill<float>();

    [Fact]
    public void Fill_Double_SetsExactlyTheDestination() => CheckFill<double>();

    private static void CheckFill<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T value = Of<T>(-2.5);
        foreach (int n in Lengths)
        {
            T[] buf = Sentinels<T>(Guard + n + Guard);
            VectorMath.Fill(value, buf.AsSpan(Guard, n));
            for (int i = 0; i < n; i++) Assert.Equal(value, buf[Guard + i]);
            AssertSentinels(buf, 0, Guard, $"Fill n = {n}, guard before");
            AssertSentinels(buf, Guard + n, Guard, $"Fill n = {n}, guard after");
        }
    }

    // =======================================================================================================
    // Reductions: forward error bound γ_n(u_T) · Σ|terms| (any summation order; Higham, Accuracy and Stability,
    // §3.1 / §4.2) plus the same bound in double for the left-to-right reference.
    // =======================================================================================================

    [Fact]
    public void Reductions_Float_WithinSummationBound_EveryLength() => CheckReductions<float>();

    [Fact]
    public void Reductions_Double_WithinSummationBound_EveryLength() => CheckReductions<double>();

    private static void CheckReductions<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        double u = UnitRoundoff<T>();
        foreach (int n in Lengths)
        {
            var rng = new Random(2718 + n);
            T[] x = Uniform<T>(rng, n, -1, 1), y = Uniform<T>(rng, n, -1, 1);
            double[] xd = ToDouble<T>(x), yd = ToDouble<T>(y);
            double absSum = 0, absDot = 0, squares = 0;
            for (int i = 0; i < n; i++)
            {
                absSum += Math.Abs(xd[i]);
                absDot += Math.Abs(xd[i] * yd[i]);
                squares += xd[i] * xd[i];
            }
            double bound = Gamma(n, u) + Gamma(n, UDouble);
            string what = $"<{Name<T>()}>, n = {n}";

            AssertWithin(ScalarReference.Sum(xd), D(VectorMath.Sum<T>(x)), bound * absSum, "Sum" + what);
            AssertWithin(ScalarReference.Dot(xd, yd), D(VectorMath.Dot<T>(x, y)), bound * absDot, "Dot" + what);
            AssertWithin(ScalarReference.SumOfSquares(xd), D(VectorMath.SumOfSquares<T>(x)), bound * squares, "SumOfSquares" + what);
        }
    }

    private static void AssertWithin(double expected, double actual, double tolerance, string what)
    {
        double err = Math.Abs(actual - expected);
        if (!(err <= tolerance))
            Assert.Fail($"{what}: got {actual:R}, expected {expected:R}, |error| {err:E3} > bound {tolerance:E3}.");
    }

    // =======================================================================================================
    // Accuracy of tanh and σ on a dense grid, exact limits, NaN, cross-path agreement
    // =======================================================================================================

    private const int GridPoints = 1_000_000;

    private static T[] Grid<T>(double lo, double hi, int points) where T : IBinaryFloatingPointIeee754<T>
    {
        var x = new T[points];
        for (int i = 0; i < points; i++) x[i] = Of<T>(lo + (hi - lo) * i / (points - 1));
        return x;
    }

    [Theory, MemberData(nameof(Paths))]
    public void TanhAndSigmoid_Float_MaxAbsoluteErrorAtMost1e6_OnDenseGrid(IsaPath path) => CheckGridAccuracy<float>(path, 1e-6);

    [Theory, MemberData(nameof(Paths))]
    public void TanhAndSigmoid_Double_MaxAbsoluteErrorAtMost1e14_OnDenseGrid(IsaPath path) => CheckGridAccuracy<double>(path, 1e-14);

    private static void CheckGridAccuracy<T>(IsaPath path, double limit) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T[] x = Grid<T>(-30, 30, GridPoints);
        var r = new T[x.Length];
        foreach (ActivationOp op in new[] { ActivationOp.Tanh, ActivationOp.Sigmoid })
        {
            Run<T>(op, x, r, path);
            double worst = 0;
            int worstAt = 0;
            for (int i = 0; i < x.Length; i++)
            {
                double err = Math.Abs(D(r[i]) - Reference(op, D(x[i])));
                if (!(err <= worst)) { worst = err; worstAt = i; }
            }
            Assert.True(worst <= limit,
                $"{op}<{Name<T>()}> on {path}: max |error| {worst:E3} at x = {D(x[worstAt]):R} exceeds {limit:E0}.");
        }
    }

    /// <summary>Arguments far beyond saturation, with both signs, including infinities and the largest finite value.</summary>
    private static double[] SaturatingMagnitudes<T>() where T : IBinaryFloatingPointIeee754<T> =>
        [31, 32, 50, 100, 1e3, 1e6, 1e10, 1e30, MaxFinite<T>(), double.PositiveInfinity];

    [Theory, MemberData(nameof(Paths))]
    public void Tanh_Float_IsExactlyPlusMinusOneFarOut(IsaPath path) => CheckTanhLimits<float>(path);

    [Theory, MemberData(nameof(Paths))]
    public void Tanh_Double_IsExactlyPlusMinusOneFarOut(IsaPath path) => CheckTanhLimits<double>(path);

    private static void CheckTanhLimits<T>(IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var values = new List<T>();
        foreach (double m in SaturatingMagnitudes<T>()) { values.Add(Of<T>(m)); values.Add(Of<T>(-m)); }
        // Every position of a vector and of the scalar tail: repeat the set to an odd length.
        CheckExactLimits(values, path, x => T.CopySign(T.One, x), ActivationOp.Tanh);
    }

    [Theory, MemberData(nameof(Paths))]
    public void Sigmoid_Float_IsExactlyZeroOrOneFarOut(IsaPath path) => CheckSigmoidLimits<float>(path, 16);

    /// <summary>
    /// double: σ(x) rounds to exactly 1 once e^-x &lt; 2^-54 (x ≥ 37.5 suffices), and is exactly 0 once e^-x
    /// overflows (x ≤ -710); in between it is a tiny positive number, correctly not 0.
    /// </summary>
    [Theory, MemberData(nameof(Paths))]
    public void Sigmoid_Double_IsExactlyZeroOrOneFarOut(IsaPath path) => CheckSigmoidLimits<double>(path, 40);

    private static void CheckSigmoidLimits<T>(IsaPath path, double onePoint) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var values = new List<T>();
        double zeroPoint = typeof(T) == typeof(float) ? 16 : 710;
        foreach (double m in new[] { onePoint, 2 * onePoint, 1e3, 1e6, 1e30, MaxFinite<T>(), double.PositiveInfinity })
            values.Add(Of<T>(m));
        foreach (double m in new[] { zeroPoint, 2 * zeroPoint, 1e6, 1e30, MaxFinite<T>(), double.PositiveInfinity })
            values.Add(Of<T>(-m));
        CheckExactLimits(values, path, x => x > T.Zero ? T.One : T.Zero, ActivationOp.Sigmoid);
    }

    private static void CheckExactLimits<T>(List<T> values, IsaPath path, Func<T, T> exact, ActivationOp op)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        foreach (int n in new[] { 1, 3, values.Count, 4 * values.Count + 3 })
        {
            var x = new T[n];
            for (int i = 0; i < n; i++) x[i] = values[(i * 7) % values.Count];
            var r = new T[n];
            Run<T>(op, x, r, path);
            for (int i = 0; i < n; i++)
            {
                T e = exact(x[i]);
                if (Bits(r[i]) != Bits(e))
                    Assert.Fail($"{op}<{Name<T>()}>({D(x[i]):R}) on {path}, n = {n}, index {i}: got {D(r[i]):R}, expected exactly {D(e):R}.");
            }
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void Tanh_Float_IsOddBitwise(IsaPath path) => CheckTanhOdd<float>(path);

    [Theory, MemberData(nameof(Paths))]
    public void Tanh_Double_IsOddBitwise(IsaPath path) => CheckTanhOdd<double>(path);

    /// <summary>tanh(-x) = -tanh(x) exactly, including tanh(-0) = -0: the sign handling of every path.</summary>
    private static void CheckTanhOdd<T>(IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T[] x = Grid<T>(0, 12, 100_003);
        x[0] = T.Zero;
        T[] minusX = new T[x.Length];
        for (int i = 0; i < x.Length; i++) minusX[i] = -x[i];
        T[] r = new T[x.Length], minusR = new T[x.Length];
        VectorMath.Tanh<T>(x, r, path);
        VectorMath.Tanh<T>(minusX, minusR, path);
        for (int i = 0; i < x.Length; i++) r[i] = -r[i];
        AssertBitwiseEqual<T>(r, minusR, $"tanh<{Name<T>()}>(-x) vs -tanh(x) on {path}");
        Assert.True(T.IsNegative(minusR[0]) && minusR[0] == T.Zero, $"tanh<{Name<T>()}>(-0) on {path} is {minusR[0]}, expected -0.");
    }

    [Theory, MemberData(nameof(Paths))]
    public void Activations_Float_PropagateNaN(IsaPath path) => CheckNaN<float>(path);

    [Theory, MemberData(nameof(Paths))]
    public void Activations_Double_PropagateNaN(IsaPath path) => CheckNaN<double>(path);

    /// <summary>
    /// A NaN input gives a NaN output in exactly its position (and nowhere else), whether it falls in a full vector,
    /// in the overlapping last vector or in the scalar path: for every activation, derivative and backward form.
    /// </summary>
    private static void CheckNaN<T>(IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T negativeNaN = -T.NaN;
        foreach (int n in new[] { 1, 2, 3, 5, 8, 13, 37, 64, 101 })
        {
            var rng = new Random(n);
            foreach (ActivationOp op in Enum.GetValues<ActivationOp>())
            {
                T[] x = Input<T>(op, rng, n);
                for (int i = 0; i < n; i += 3) x[i] = (i / 3) % 2 == 0 ? T.NaN : negativeNaN;
                x[n - 1] = T.NaN;
                var r = new T[n];
                Run<T>(op, x, r, path);
                AssertNaNExactlyWhere(x, r, $"{op}<{Name<T>()}> on {path}, n = {n}");
            }
            foreach (BackwardOp op in Enum.GetValues<BackwardOp>())
            {
                (T[] y, T[] dy) = Input<T>(op, rng, n);
                for (int i = 0; i < n; i += 3) y[i] = T.NaN;
                y[n - 1] = negativeNaN;
                var r = new T[n];
                Run<T>(op, y, dy, r, path);
                AssertNaNExactlyWhere(y, r, $"{op}<{Name<T>()}> on {path}, n = {n}, NaN in y");

                // NaN in dOutput: the products propagate it; ReLU backward selects, so it propagates where y > 0.
                (y, dy) = Input<T>(op, rng, n);
                for (int i = 0; i < n; i++) y[i] = T.Abs(y[i]) + Of<T>(0.125);
                for (int i = 1; i < n; i += 3) dy[i] = T.NaN;
                dy[n - 1] = T.NaN;
                Run<T>(op, y, dy, r, path);
                AssertNaNExactlyWhere(dy, r, $"{op}<{Name<T>()}> on {path}, n = {n}, NaN in dOutput");
            }
        }
    }

    private static void AssertNaNExactlyWhere<T>(T[] input, T[] output, string what) where T : IBinaryFloatingPointIeee754<T>
    {
        for (int i = 0; i < input.Length; i++)
        {
            if (T.IsNaN(input[i]) != T.IsNaN(output[i]))
                Assert.Fail($"{what}: index {i}: input {input[i]}, output {output[i]}.");
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void ReluBackward_Float_SelectsRatherThanMultiplies(IsaPath path) => CheckReluBackwardSelects<float>(path);

    [Theory, MemberData(nameof(Paths))]
    public void ReluBackward_Double_SelectsRatherThanMultiplies(IsaPath path) => CheckReluBackwardSelects<double>(path);

    /// <summary>
    /// Where y ≤ 0 the gradient is exactly 0 even if dOutput is ±∞ or NaN (0 · ∞ would be NaN); where y &gt; 0 it is
    /// dOutput itself, bit for bit. ReLU' is 0 at the kink y = 0 and 1 for any positive y, however small.
    /// </summary>
    private static void CheckReluBackwardSelects<T>(IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        T[] ys = [T.Zero, -T.Zero, -T.One, T.NegativeInfinity, T.Epsilon, T.One, T.PositiveInfinity];
        T[] dys = [T.PositiveInfinity, T.NegativeInfinity, T.NaN, Of<T>(-3.25), Of<T>(1e-30), -T.Zero];
        foreach (int n in new[] { 1, 5, 17, 42 })
        {
            var y = new T[n];
            var dy = new T[n];
            for (int i = 0; i < n; i++) { y[i] = ys[i % ys.Length]; dy[i] = dys[(i / ys.Length + i) % dys.Length]; }
            var r = new T[n];
            var d = new T[n];
            VectorMath.ReluBackward<T>(y, dy, r, path);
            VectorMath.ReluDerivative<T>(y, d, path);
            for (int i = 0; i < n; i++)
            {
                bool positive = y[i] > T.Zero;
                T expected = positive ? dy[i] : T.Zero;
                if (positive ? Bits(r[i]) != Bits(expected) : r[i] != T.Zero)
                    Assert.Fail($"ReluBackward<{Name<T>()}> on {path}, n = {n}: y = {y[i]}, dOutput = {dy[i]} gave {r[i]}, expected {expected}.");
                Assert.Equal(positive ? T.One : T.Zero, d[i]);
            }
        }
    }

    [Fact]
    public void TanhAndSigmoid_Float_BitwiseIdenticalOnEveryPath()
    {
        // The dense grid, plus special values and random values at every offset of a vector.
        var values = new List<float>(Grid<float>(-30, 30, GridPoints));
        values.AddRange([0f, -0f, 7.9053111f, -7.9053111f, 7.905311f, 15.810622f, -15.810622f, 1e-30f, -1e-30f,
            float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity]);
        values.AddRange(Uniform<float>(new Random(99), 10_007, -40, 40));
        float[] x = values.ToArray();
        foreach (ActivationOp op in new[] { ActivationOp.Tanh, ActivationOp.Sigmoid })
        {
            var scalar = new float[x.Length];
            Run<float>(op, x, scalar, IsaPath.Scalar);
            foreach (IsaPath path in TestPaths.All)
            {
                var r = new float[x.Length];
                Run<float>(op, x, r, path);
                AssertBitwiseEqual<float>(scalar, r, $"{op}<float> on {path} vs Scalar");
                // Also through the short-input (scalar) route and the overlapping last vector of the path.
                foreach (int n in new[] { 1, 3, 7, 9, 17, 33 })
                {
                    var part = new float[n];
                    int start = x.Length - n - 1;
                    Run<float>(op, x.AsSpan(start, n), part, path);
                    AssertBitwiseEqual<float>(scalar.AsSpan(start, n), part, $"{op}<float> on {path} vs Scalar, n = {n}");
                }
            }
        }
    }

    // =======================================================================================================
    // Argument validation
    // =======================================================================================================

    [Theory, MemberData(nameof(Paths))]
    public void Activations_DestinationTooShort_Throws_NamingDestination(IsaPath path)
    {
        foreach (ActivationOp op in Enum.GetValues<ActivationOp>())
        {
            var ex = Assert.Throws<ArgumentException>(() => Run<float>(op, new float[10], new float[9], path));
            Assert.Equal("destination", ex.ParamName);
            ex = Assert.Throws<ArgumentException>(() => Run<double>(op, new double[1], Span<double>.Empty, path));
            Assert.Equal("destination", ex.ParamName);
        }
        foreach (BackwardOp op in Enum.GetValues<BackwardOp>())
        {
            var ex = Assert.Throws<ArgumentException>(() => Run<float>(op, new float[10], new float[10], new float[9], path));
            Assert.Equal("dInput", ex.ParamName);
            ex = Assert.Throws<ArgumentException>(() => Run<double>(op, new double[33], new double[33], new double[32], path));
            Assert.Equal("dInput", ex.ParamName);
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void Activations_PartialOverlap_Throws(IsaPath path)
    {
        foreach (ActivationOp op in Enum.GetValues<ActivationOp>())
        {
            foreach (int shift in new[] { 1, 5, -1, -9 })
            {
                var ex = Assert.Throws<ArgumentException>(() =>
                {
                    var buf = new float[64];
                    int xs = Math.Max(0, -shift), ds = Math.Max(0, shift);
                    Run<float>(op, buf.AsSpan(xs, 40), buf.AsSpan(ds, 40), path);
                });
                Assert.Equal("destination", ex.ParamName);
            }
        }
        foreach (BackwardOp op in Enum.GetValues<BackwardOp>())
        {
            // dInput partially overlapping y, and partially overlapping dOutput.
            var ex = Assert.Throws<ArgumentException>(() =>
            {
                var buf = new double[64];
                Run<double>(op, buf.AsSpan(0, 20), new double[20], buf.AsSpan(3, 20), path);
            });
            Assert.Equal("dInput", ex.ParamName);
            ex = Assert.Throws<ArgumentException>(() =>
            {
                var buf = new double[64];
                Run<double>(op, new double[20], buf.AsSpan(4, 20), buf.AsSpan(1, 20), path);
            });
            Assert.Equal("dInput", ex.ParamName);
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void Backward_LengthMismatch_Throws_NamingDOutput(IsaPath path)
    {
        foreach (BackwardOp op in Enum.GetValues<BackwardOp>())
        {
            var ex = Assert.Throws<ArgumentException>(() => Run<float>(op, new float[10], new float[11], new float[20], path));
            Assert.Equal("dOutput", ex.ParamName);
            ex = Assert.Throws<ArgumentException>(() => Run<float>(op, new float[10], new float[9], new float[20], path));
            Assert.Equal("dOutput", ex.ParamName);
        }
    }

    [Fact]
    public void Arithmetic_DestinationTooShort_Throws_NamingDestination()
    {
        foreach (ArithmeticOp op in Enum.GetValues<ArithmeticOp>())
        {
            var ex = Assert.Throws<ArgumentException>(() => Run<float>(op, 2f, new float[10], new float[10], new float[9]));
            Assert.Equal("destination", ex.ParamName);
            ex = Assert.Throws<ArgumentException>(() => Run<double>(op, 2.0, new double[1], new double[1], Span<double>.Empty));
            Assert.Equal("destination", ex.ParamName);
        }
    }

    [Fact]
    public void Arithmetic_PartialOverlap_Throws()
    {
        foreach (ArithmeticOp op in Enum.GetValues<ArithmeticOp>())
        {
            Assert.Throws<ArgumentException>(() =>
            {
                var buf = new float[64];
                Run<float>(op, 2f, buf.AsSpan(0, 40), new float[40], buf.AsSpan(1, 40));
            });
            Assert.Throws<ArgumentException>(() =>
            {
                var buf = new double[64];
                Run<double>(op, 2.0, buf.AsSpan(7, 40), new double[40], buf.AsSpan(0, 40));
            });
            if (op != ArithmeticOp.Scale)
            {
                Assert.Throws<ArgumentException>(() =>
                {
                    var buf = new float[64];
                    Run<float>(op, 2f, new float[40], buf.AsSpan(2, 40), buf.AsSpan(0, 40));
                });
            }
        }
        Assert.Throws<ArgumentException>(() =>
        {
            var buf = new float[64];
            VectorMath.Axpy(2f, buf.AsSpan(0, 40), buf.AsSpan(1, 40));
        });
    }

    [Fact]
    public void BinaryInputs_LengthMismatch_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => VectorMath.Add<float>(new float[10], new float[9], new float[10]));
        Assert.Equal("y", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => VectorMath.Add<double>(new double[10], new double[11], new double[11]));
        Assert.Equal("y", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => VectorMath.Multiply<float>(new float[10], new float[11], new float[11]));
        Assert.Equal("y", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => VectorMath.Axpy(1f, new float[10], new float[11]));
        Assert.Equal("y", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => VectorMath.Axpy(1.0, new double[10], new double[9]));
        Assert.Equal("y", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => VectorMath.Dot<float>(new float[10], new float[9]));
        Assert.Equal("y", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => VectorMath.Dot<double>(Array.Empty<double>(), new double[1]));
        Assert.Equal("y", ex.ParamName);
    }

    [Fact]
    public void UnsupportedOrUnknownPath_Throws()
    {
        foreach (IsaPath p in new[] { IsaPath.Scalar, IsaPath.Vector128, IsaPath.Vector256, IsaPath.Vector512 })
        {
            // Every path runs in the tests (natively, or emulated in software where the CPU lacks it).
            var r = new float[3];
            VectorMath.Tanh<float>(new float[] { 0, 31, -31 }, r, p);
            Assert.Equal(new float[] { 0, 1, -1 }, r);
            if (Isa.IsSupported(p))
            {
                Assert.Contains(p, Isa.SupportedPaths);
                Assert.Equal(p, Isa.Resolve(p, allowEmulated: false));
            }
            else
            {
                // Production (no emulation) refuses a path the CPU lacks.
                Assert.DoesNotContain(p, Isa.SupportedPaths);
                Assert.Throws<PlatformNotSupportedException>(() => Isa.Resolve(p, allowEmulated: false));
            }
        }
        Assert.Contains(IsaPath.Scalar, Isa.SupportedPaths);
        Assert.Throws<ArgumentOutOfRangeException>(() => VectorMath.Relu<float>(new float[3], new float[3], (IsaPath)17));
    }

    // =======================================================================================================
    // Helpers
    // =======================================================================================================

    private static T[] Sentinels<T>(int length) where T : IBinaryFloatingPointIeee754<T>
    {
        var r = new T[length];
        r.AsSpan().Fill(SentinelNaN<T>());
        return r;
    }

    private static void AssertSentinels<T>(T[] buf, int start, int count, string what) where T : IBinaryFloatingPointIeee754<T>
    {
        long s = Bits(SentinelNaN<T>());
        for (int i = start; i < start + count; i++)
        {
            if (Bits(buf[i]) != s) Assert.Fail($"{what}: element {i - start} was overwritten with {buf[i]}.");
        }
    }

    private static void AssertClose<T>(double[] expected, double[] tolerance, ReadOnlySpan<T> actual, string what)
        where T : IBinaryFloatingPointIeee754<T>
    {
        for (int i = 0; i < expected.Length; i++)
        {
            double a = D(actual[i]);
            double err = Math.Abs(a - expected[i]);
            bool ok = tolerance[i] == 0 ? a == expected[i] : err <= tolerance[i];
            if (!ok)
                Assert.Fail($"{what}: element {i} is {a:R}, expected {expected[i]:R} (|error| {err:E3}, tolerance {tolerance[i]:E3}).");
        }
    }
}

/// <summary>double tanh keeps full relative accuracy near 0 (where 1 - 2/(e^2x + 1) would cancel) on every path.</summary>
public sealed class TanhDoubleSmallArgumentTests
{
    public static TheoryData<IsaPath> Paths()
    {
        var data = new TheoryData<IsaPath>();
        foreach (IsaPath p in TestPaths.All) data.Add(p);
        return data;
    }

    [Theory, MemberData(nameof(Paths))]
    public void Tanh_Double_RelativeErrorNearZero_IsAFewUlp(IsaPath path)
    {
        // 1e-300 .. 0.7 on a log grid, both signs: relative error against Math.Tanh within 4 ulp (2^-50).
        var x = new double[2 * 1201];
        for (int i = 0; i < 1201; i++)
        {
            double v = Math.Pow(10, -300 + i * (300 + Math.Log10(0.7)) / 1200);
            x[2 * i] = v;
            x[2 * i + 1] = -v;
        }
        var y = new double[x.Length];
        VectorMath.Tanh<double>(x, y, path);
        for (int i = 0; i < x.Length; i++)
        {
            double expected = Math.Tanh(x[i]);
            double rel = Math.Abs(y[i] - expected) / Math.Abs(expected);
            Assert.True(rel <= Math.Pow(2, -50), $"tanh({x[i]:R}) on {path} = {y[i]:R}, Math.Tanh gives {expected:R}: relative error {rel:E2}.");
        }
    }
}
