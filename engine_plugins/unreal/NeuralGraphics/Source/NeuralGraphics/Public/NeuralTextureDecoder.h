// Thin C++ layer over the ngsdk loader for engine code: load a UNeuralTexture's bundle from the bytes
// it stores, decode a mip on the CPU (exact: UNORM8 bytes; float: linear float32), pack channels
// four to a texel.
#pragma once

#include "CoreMinimal.h"

class UNeuralTexture;

struct NEURALGRAPHICS_API FNeuralDecodedMip
{
    int32 Width = 0;
    int32 Height = 0;
    int32 Channels = 0;
    bool bBytes = false;     // true: Bytes holds UNORM8 (exact); false: Floats holds float32 (float)
    TArray<uint8> Bytes;     // (Height, Width, Channels)
    TArray<float> Floats;    // (Height, Width, Channels)
};

class NEURALGRAPHICS_API FNeuralTextureDecoder
{
public:
    /** Decode texture mip `Mip` with the asset's decode mode (hardware-mode assets decode in exact
        arithmetic on the CPU: the integer MLP is the same, only the sampler differs). */
    static bool DecodeMip(const UNeuralTexture& Asset, int32 Mip, FNeuralDecodedMip& Out, FString& OutError);

    /** Channels [First, First + 4) of a decoded mip as BGRA8 texels (exact) or RGBA32F (float);
        missing channels are 0 (alpha 1). */
    static void PackBGRA8(const FNeuralDecodedMip& Mip, int32 FirstChannel, TArray<uint8>& Out);
    static void PackRGBA32F(const FNeuralDecodedMip& Mip, int32 FirstChannel, TArray<FLinearColor>& Out);

    /** Build the shaders' parameter array from bundle files (used by the importer). */
    static bool BuildShaderParams(const TMap<FString, TArray<uint8>>& Files, const FString& Label, TArray<int32>& Out,
                                  FString& OutError);
};
