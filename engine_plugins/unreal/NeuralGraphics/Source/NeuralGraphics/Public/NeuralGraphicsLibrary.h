// Blueprint calls: decode a neural texture on the CPU into regular textures or a render target.
#pragma once

#include "CoreMinimal.h"
#include "Kismet/BlueprintFunctionLibrary.h"

#include "NeuralGraphicsLibrary.generated.h"

class UNeuralTexture;
class UTexture2D;
class UTextureRenderTarget2D;

UCLASS()
class NEURALGRAPHICS_API UNeuralGraphicsLibrary : public UBlueprintFunctionLibrary
{
    GENERATED_BODY()

public:
    /**
     * Decode every mip of the neural texture and return one texture per four channels (channels
     * 0-3, 4-7, ...), with all mips. Exact-mode assets give BGRA8 textures holding the decoded bytes
     * (sRGB on when every channel of the texture is stored in sRGB); float-mode assets give RGBA32F.
     * The results are also kept in Texture->DecodedTextures.
     */
    UFUNCTION(BlueprintCallable, Category = "Neural Graphics")
    static TArray<UTexture2D*> DecodeToTextures(UNeuralTexture* Texture, FString& Error);

    /**
     * Decode mip `Mip` and write channels [FirstChannel, FirstChannel + 4) into `Target`, whose size
     * must match the mip and whose format must be RTF_RGBA8 (exact) or RTF_RGBA32f / RTF_RGBA16f.
     */
    UFUNCTION(BlueprintCallable, Category = "Neural Graphics")
    static bool DecodeToRenderTarget(UNeuralTexture* Texture, UTextureRenderTarget2D* Target, int32 Mip,
                                     int32 FirstChannel, FString& Error);
};
