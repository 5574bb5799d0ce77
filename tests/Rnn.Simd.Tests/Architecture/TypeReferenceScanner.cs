using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Rnn.Simd.Tests.Architecture;

/// <summary>One reference from a type of an assembly to another type defined in the same assembly.</summary>
/// <param name="Source">The referencing type's full name (a nested or compiler-generated type counts for the top-level type that contains it).</param>
/// <param name="SourceNamespace">The namespace of <paramref name="Source"/>.</param>
/// <param name="Target">The referenced type's full name (nested types as Outer+Inner).</param>
/// <param name="TargetNamespace">The namespace of the top-level type containing the target.</param>
/// <param name="Via">Where the reference is, e.g. "field _x", "IL of M", "base type".</param>
internal readonly record struct TypeReference(string Source, string SourceNamespace, string Target, string TargetNamespace, string Via);

/// <summary>A type defined in the scanned assembly, with the namespace it counts for.</summary>
/// <param name="Name">Full name (nested types as Outer+Inner).</param>
/// <param name="Namespace">The namespace of its top-level type ("" for the global namespace).</param>
/// <param name="IsCompilerGenerated">Emitted by the compiler (a name in angle brackets, [CompilerGenerated] or [Embedded]).</param>
internal readonly record struct DefinedType(string Name, string Namespace, bool IsCompilerGenerated);

/// <summary>
/// Reads an assembly's metadata (System.Reflection.Metadata, nothing loaded or executed) and lists, for every type it
/// defines, every other type of the same assembly that it references: in its base type, interfaces, generic
/// constraints, attributes, fields, method / property / event signatures, explicit interface implementations, and in
/// each method body its locals, catch clauses and every token of its IL (calls, newobj, field accesses, ldtoken /
/// typeof, casts, generic instantiations, calli signatures). References to other assemblies are not listed: within one
/// assembly, a type of the assembly is always a TypeDef token, never a TypeRef. Not seen: types named only inside
/// attribute arguments (typeof in an attribute is serialised as a string).
/// </summary>
internal static class TypeReferenceScanner
{
    private static readonly Dictionary<ushort, OperandType> s_operandTypes = BuildOperandTable();

    /// <summary>Every type the assembly defines (nested ones included).</summary>
    public static IReadOnlyList<DefinedType> DefinedTypes(string assemblyPath)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        MetadataReader md = pe.GetMetadataReader();
        var list = new List<DefinedType>();
        foreach (TypeDefinitionHandle h in md.TypeDefinitions)
            list.Add(new DefinedType(FullName(md, h), OwnerNamespace(md, h), IsCompilerGenerated(md, h)));
        return list;
    }

    /// <summary>The simple names of the assemblies the assembly references.</summary>
    public static IReadOnlyList<AssemblyName> AssemblyReferences(string assemblyPath)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        MetadataReader md = pe.GetMetadataReader();
        var list = new List<AssemblyName>();
        foreach (AssemblyReferenceHandle h in md.AssemblyReferences) list.Add(md.GetAssemblyReference(h).GetAssemblyName());
        return list;
    }

    /// <summary>
    /// Every reference from a type whose owner namespace satisfies <paramref name="inScope"/> to a type of the same
    /// assembly (any namespace), one entry per (source top-level type, target type, place); self-references omitted.
    /// </summary>
    public static IReadOnlyList<TypeReference> Scan(string assemblyPath, Func<string, bool> inScope)
    {
        using var pe = new PEReader(File.OpenRead(assemblyPath));
        MetadataReader md = pe.GetMetadataReader();
        var found = new List<TypeReference>();
        var seen = new HashSet<(TypeDefinitionHandle, TypeDefinitionHandle, string)>();
        foreach (TypeDefinitionHandle typeHandle in md.TypeDefinitions)
        {
            string ns = OwnerNamespace(md, typeHandle);
            if (!inScope(ns)) continue;
            TypeDefinitionHandle top = TopLevel(md, typeHandle);
            string source = FullName(md, top);
            string via = "";
            void Found(TypeDefinitionHandle target)
            {
                if (TopLevel(md, target) == top || !seen.Add((top, target, via))) return;
                found.Add(new TypeReference(source, ns, FullName(md, target), OwnerNamespace(md, target), via));
            }
            var walker = new Walker(md, Found);
            TypeDefinition type = md.GetTypeDefinition(typeHandle);
            string typeName = FullName(md, typeHandle);

            via = $"base type of {typeName}";
            walker.Entity(type.BaseType);
            via = $"interfaces of {typeName}";
            foreach (InterfaceImplementationHandle i in type.GetInterfaceImplementations()) walker.Entity(md.GetInterfaceImplementation(i).Interface);
            via = $"generic constraints of {typeName}";
            walker.GenericParameters(type.GetGenericParameters());
            via = $"attributes of {typeName}";
            walker.Attributes(type.GetCustomAttributes());
            via = $"explicit implementations in {typeName}";
            foreach (MethodImplementationHandle i in type.GetMethodImplementations())
            {
                MethodImplementation impl = md.GetMethodImplementation(i);
                walker.Entity(impl.MethodDeclaration);
            }

            foreach (FieldDefinitionHandle f in type.GetFields())
            {
                FieldDefinition field = md.GetFieldDefinition(f);
                via = $"field {typeName}.{md.GetString(field.Name)}";
                field.DecodeSignature(walker.Provider, null);
                walker.Attributes(field.GetCustomAttributes());
            }
            foreach (PropertyDefinitionHandle p in type.GetProperties())
            {
                PropertyDefinition property = md.GetPropertyDefinition(p);
                via = $"property {typeName}.{md.GetString(property.Name)}";
                property.DecodeSignature(walker.Provider, null);
                walker.Attributes(property.GetCustomAttributes());
            }
            foreach (EventDefinitionHandle e in type.GetEvents())
            {
                EventDefinition ev = md.GetEventDefinition(e);
                via = $"event {typeName}.{md.GetString(ev.Name)}";
                walker.Entity(ev.Type);
                walker.Attributes(ev.GetCustomAttributes());
            }
            foreach (MethodDefinitionHandle m in type.GetMethods())
            {
                MethodDefinition method = md.GetMethodDefinition(m);
                string name = $"{typeName}.{md.GetString(method.Name)}";
                via = $"signature of {name}";
                method.DecodeSignature(walker.Provider, null);
                walker.GenericParameters(method.GetGenericParameters());
                walker.Attributes(method.GetCustomAttributes());
                foreach (ParameterHandle ph in method.GetParameters()) walker.Attributes(md.GetParameter(ph).GetCustomAttributes());
                if (method.RelativeVirtualAddress == 0) continue;
                MethodBodyBlock body = pe.GetMethodBody(method.RelativeVirtualAddress);
                via = $"locals of {name}";
                if (!body.LocalSignature.IsNil) md.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(walker.Provider, null);
                via = $"catch clauses of {name}";
                foreach (ExceptionRegion region in body.ExceptionRegions)
                    if (region.Kind == ExceptionRegionKind.Catch) walker.Entity(region.CatchType);
                via = $"IL of {name}";
                walker.IL(body.GetILReader());
            }
        }
        return found;
    }

    /// <summary>Visits metadata entities and signatures, reporting every TypeDef they lead to.</summary>
    private sealed class Walker
    {
        private readonly MetadataReader _md;

        public Walker(MetadataReader md, Action<TypeDefinitionHandle> found)
        {
            _md = md;
            Provider = new SignatureProvider(this, found);
        }

        public SignatureProvider Provider { get; }

        public void Entity(EntityHandle handle)
        {
            if (handle.IsNil) return;
            switch (handle.Kind)
            {
                case HandleKind.TypeDefinition:
                    Provider.Found((TypeDefinitionHandle)handle);
                    break;
                case HandleKind.TypeSpecification:
                    _md.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(Provider, null);
                    break;
                case HandleKind.MethodDefinition:
                    Provider.Found(_md.GetMethodDefinition((MethodDefinitionHandle)handle).GetDeclaringType());
                    break;
                case HandleKind.FieldDefinition:
                    Provider.Found(_md.GetFieldDefinition((FieldDefinitionHandle)handle).GetDeclaringType());
                    break;
                case HandleKind.MemberReference:
                    MemberReference member = _md.GetMemberReference((MemberReferenceHandle)handle);
                    Entity(member.Parent);
                    if (member.GetKind() == MemberReferenceKind.Method) member.DecodeMethodSignature(Provider, null);
                    else member.DecodeFieldSignature(Provider, null);
                    break;
                case HandleKind.MethodSpecification:
                    MethodSpecification spec = _md.GetMethodSpecification((MethodSpecificationHandle)handle);
                    Entity(spec.Method);
                    spec.DecodeSignature(Provider, null);
                    break;
                case HandleKind.StandaloneSignature:
                    StandaloneSignature sig = _md.GetStandaloneSignature((StandaloneSignatureHandle)handle);
                    if (sig.GetKind() == StandaloneSignatureKind.Method) sig.DecodeMethodSignature(Provider, null);
                    else sig.DecodeLocalSignature(Provider, null);
                    break;
                // TypeReference (another assembly), ModuleReference, strings: nothing of this assembly.
            }
        }

        public void Attributes(CustomAttributeHandleCollection attributes)
        {
            foreach (CustomAttributeHandle a in attributes) Entity(_md.GetCustomAttribute(a).Constructor);
        }

        public void GenericParameters(GenericParameterHandleCollection parameters)
        {
            foreach (GenericParameterHandle p in parameters)
            {
                GenericParameter gp = _md.GetGenericParameter(p);
                foreach (GenericParameterConstraintHandle c in gp.GetConstraints()) Entity(_md.GetGenericParameterConstraint(c).Type);
                Attributes(gp.GetCustomAttributes());
            }
        }

        /// <summary>Walks the IL instruction by instruction and visits every metadata token operand.</summary>
        public void IL(BlobReader il)
        {
            while (il.RemainingBytes > 0)
            {
                ushort code = il.ReadByte();
                if (code == 0xFE) code = (ushort)(0xFE00 | il.ReadByte());
                if (!s_operandTypes.TryGetValue(code, out OperandType operand))
                    throw new InvalidOperationException($"Unknown IL opcode 0x{code:X} at offset {il.Offset - 1}.");
                switch (operand)
                {
                    case OperandType.InlineNone:
                        break;
                    case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                        il.ReadByte();
                        break;
                    case OperandType.InlineVar:
                        il.ReadUInt16();
                        break;
                    case OperandType.InlineBrTarget or OperandType.InlineI or OperandType.ShortInlineR:
                        il.ReadInt32();
                        break;
                    case OperandType.InlineI8 or OperandType.InlineR:
                        il.ReadInt64();
                        break;
                    case OperandType.InlineSwitch:
                        int targets = il.ReadInt32();
                        for (int i = 0; i < targets; i++) il.ReadInt32();
                        break;
                    case OperandType.InlineString:
                        il.ReadInt32();
                        break;
                    case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineSig or OperandType.InlineTok or OperandType.InlineType:
                        Entity(MetadataTokens.EntityHandle(il.ReadInt32()));
                        break;
                    default:
                        throw new InvalidOperationException($"IL operand type {operand} is not handled.");
                }
            }
        }
    }

    /// <summary>Decodes signatures, reporting every TypeDef in them (generic arguments, arrays, pointers, modifiers included).</summary>
    private sealed class SignatureProvider(Walker walker, Action<TypeDefinitionHandle> found) : ISignatureTypeProvider<bool, object?>
    {
        public void Found(TypeDefinitionHandle handle) => found(handle);

        public bool GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
        {
            found(handle);
            return true;
        }

        public bool GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => false;

        public bool GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind)
        {
            walker.Entity(handle);
            return false;
        }

        public bool GetArrayType(bool elementType, ArrayShape shape) => false;
        public bool GetByReferenceType(bool elementType) => false;
        public bool GetPointerType(bool elementType) => false;
        public bool GetPinnedType(bool elementType) => false;
        public bool GetSZArrayType(bool elementType) => false;
        public bool GetFunctionPointerType(MethodSignature<bool> signature) => false;
        public bool GetGenericInstantiation(bool genericType, ImmutableArray<bool> typeArguments) => false;
        public bool GetGenericMethodParameter(object? genericContext, int index) => false;
        public bool GetGenericTypeParameter(object? genericContext, int index) => false;
        public bool GetModifiedType(bool modifier, bool unmodifiedType, bool isRequired) => false;
        public bool GetPrimitiveType(PrimitiveTypeCode typeCode) => false;
    }

    private static Dictionary<ushort, OperandType> BuildOperandTable()
    {
        var table = new Dictionary<ushort, OperandType>();
        foreach (FieldInfo f in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var op = (OpCode)f.GetValue(null)!;
            table[unchecked((ushort)op.Value)] = op.OperandType;
        }
        return table;
    }

    private static TypeDefinitionHandle TopLevel(MetadataReader md, TypeDefinitionHandle h)
    {
        for (TypeDefinitionHandle up = md.GetTypeDefinition(h).GetDeclaringType(); !up.IsNil; up = md.GetTypeDefinition(h).GetDeclaringType()) h = up;
        return h;
    }

    private static string OwnerNamespace(MetadataReader md, TypeDefinitionHandle h) => md.GetString(md.GetTypeDefinition(TopLevel(md, h)).Namespace);

    private static string FullName(MetadataReader md, TypeDefinitionHandle h)
    {
        TypeDefinition t = md.GetTypeDefinition(h);
        TypeDefinitionHandle outer = t.GetDeclaringType();
        if (!outer.IsNil) return FullName(md, outer) + "+" + md.GetString(t.Name);
        string ns = md.GetString(t.Namespace);
        return ns.Length == 0 ? md.GetString(t.Name) : ns + "." + md.GetString(t.Name);
    }

    private static bool IsCompilerGenerated(MetadataReader md, TypeDefinitionHandle h)
    {
        for (TypeDefinitionHandle t = h; !t.IsNil; t = md.GetTypeDefinition(t).GetDeclaringType())
        {
            TypeDefinition type = md.GetTypeDefinition(t);
            if (md.GetString(type.Name).StartsWith('<')) return true;
            foreach (CustomAttributeHandle a in type.GetCustomAttributes())
            {
                string name = AttributeTypeName(md, md.GetCustomAttribute(a).Constructor);
                if (name is "System.Runtime.CompilerServices.CompilerGeneratedAttribute" or "Microsoft.CodeAnalysis.EmbeddedAttribute") return true;
            }
        }
        return false;
    }

    private static string AttributeTypeName(MetadataReader md, EntityHandle constructor)
    {
        EntityHandle type = constructor.Kind switch
        {
            HandleKind.MemberReference => md.GetMemberReference((MemberReferenceHandle)constructor).Parent,
            HandleKind.MethodDefinition => md.GetMethodDefinition((MethodDefinitionHandle)constructor).GetDeclaringType(),
            _ => default,
        };
        return type.Kind switch
        {
            HandleKind.TypeReference => md.GetString(md.GetTypeReference((TypeReferenceHandle)type).Namespace) + "." + md.GetString(md.GetTypeReference((TypeReferenceHandle)type).Name),
            HandleKind.TypeDefinition => FullName(md, (TypeDefinitionHandle)type),
            _ => "",
        };
    }
}
