using System.Runtime.CompilerServices;

// The tests check the split generator against its published reference values.
[assembly: InternalsVisibleTo("Vigil.Tests")]
