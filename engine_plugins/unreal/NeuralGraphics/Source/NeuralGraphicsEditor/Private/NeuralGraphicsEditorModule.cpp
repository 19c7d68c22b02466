#include "Modules/ModuleManager.h"

// The import factory registers itself (UFactory class discovery) and its reimport handler (the
// FReimportHandler base of the factory's default object).
IMPLEMENT_MODULE(FDefaultModuleImpl, NeuralGraphicsEditor)
