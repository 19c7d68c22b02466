// Builds the Unreal assets of a neural texture from a bundle folder, through the ngsdk loader.
#pragma once

#include "CoreMinimal.h"

class UNeuralTexture;
class UTexture2DArray;

namespace NeuralTextureImport
{
/** Validate the bundle in `BundleDir` with the ngsdk loader (manifest, sizes, sha256, DDS headers,
    codes, decoder arrays) and fill `Asset`: metadata, bundle files, shader parameters, and one
    UTexture2DArray per latent grid created beside it (exact-data settings). */
bool Fill(UNeuralTexture& Asset, const FString& BundleDir, FString& OutError);

/** Apply the settings that keep latent codes exact to a grid texture. */
void ApplyExactSettings(UTexture2DArray& Texture, bool bWrap, bool bHardwareFiltered);
}  // namespace NeuralTextureImport
