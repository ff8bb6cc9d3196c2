[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Vigil.Tests")]
