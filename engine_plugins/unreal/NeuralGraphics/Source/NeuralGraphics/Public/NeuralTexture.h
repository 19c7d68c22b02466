// UNeuralTexture: an imported ngsdk neural texture. It keeps the bundle's own files (manifest,
// latent grids, decoder weights) so the CPU decode runs the ngsdk loader on exactly the bytes that
// were verified at import, plus the latent grids as exact-data UTexture2DArray assets and the
// shaders' parameter array for material decode.
#pragma once

#include "CoreMinimal.h"
#include "Engine/Texture2DArray.h"
#include "UObject/Object.h"

#include "NeuralTexture.generated.h"

class UAssetImportData;
class UTexture2D;

UENUM(BlueprintType)
enum class ENeuralDecodeMode : uint8
{
    /** Strict fp32 reference arithmetic (CPU decode; bit-exact with the reference runtime). */
    Float,
    /** Integer decode: texels read with Load, integer weights and MLP; bit-exact on every GPU and the CPU. */
    Exact,
    /** The engine's filtered sampler feeds the integer MLP; exact where the sampler is (see docs/samplers.md). */
    Hardware,
};

USTRUCT(BlueprintType)
struct NEURALGRAPHICS_API FNeuralTextureChannel
{
    GENERATED_BODY()

    UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "Neural Texture")
    FString Name;

    /** albedo, normal, roughness, ao, metallic, specular, displacement, opacity, emissive or user:NAME */
    UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "Neural Texture")
    FString Semantic;

    UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "Neural Texture")
    FString Component;

    /** Colour space the decoded channel is stored in: "srgb" for colour maps, else "linear". */
    UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "Neural Texture")
    FString ColourSpace;
};

/** One file of the source bundle, kept byte for byte. */
USTRUCT()
struct NEURALGRAPHICS_API FNeuralBundleFile
{
    GENERATED_BODY()

    UPROPERTY()
    FString Name;

    UPROPERTY()
    TArray<uint8> Bytes;
};

UCLASS(BlueprintType, hidecategories = Object)
class NEURALGRAPHICS_API UNeuralTexture : public UObject
{
    GENERATED_BODY()

public:
    UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "Neural Texture")
    FString BundleName;

    UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "Neural Texture")
    FString FormatVersion;

    /** Size of decoded mip 0. */
    UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "Neural Texture")
    int32 Width = 0;

    UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "Neural Texture")
    int32 Height = 0;

    UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "Neural Texture")
    int32 MipLevels = 0;

    UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "Neural Texture")
    ENeuralDecodeMode DecodeMode = ENeuralDecodeMode::Float;

    /** Latent addressing: true for tiling materials (wrap), false for clamp. */
    UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "Neural Texture")
    bool bWrap = true;

    UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "Neural Texture")
    TArray<FNeuralTextureChannel> Channels;

    /** The latent grids: RGBA8 arrays (one slice per 4 packed bytes), every trained level as a mip,
        sRGB off, uncompressed, NeverStream. */
    UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "Neural Texture")
    TArray<TObjectPtr<UTexture2DArray>> LatentGrids;

    /** The latent taps of every texture mip as (grid, level) pairs, flattened mip-major: mip m's taps are
        entries [m * TapsPerMip, (m + 1) * TapsPerMip) (the manifest's texture.mip_inputs; a 1.x bundle
        has one tap per grid at its grid_levels). */
    UPROPERTY(VisibleAnywhere, Category = "Neural Texture")
    TArray<FIntPoint> LatentTaps;

    UPROPERTY(VisibleAnywhere, Category = "Neural Texture")
    int32 TapsPerMip = 0;

    /** Per texture mip, the decoder's LOD input (format 2.0 pyramids); empty when the bundle has none. */
    UPROPERTY(VisibleAnywhere, Category = "Neural Texture")
    TArray<int32> LodInputs;

    /** The shaders' int32 parameter array (NTD_Param; docs/decode-spec.md): the integer decoder, the
        sizes and every mip's taps and LOD input; empty for float bundles. */
    UPROPERTY(VisibleAnywhere, Category = "Neural Texture")
    TArray<int32> ShaderParams;

    /** ShaderParams as the material decode reads them (NeuralTextureMaterial.ush): one little-endian
        int32 per RGBA8 texel, 256 per row. */
    UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "Neural Texture")
    TObjectPtr<UTexture2D> ParamsTexture;

    /** Code for a material Custom node that decodes this texture (docs/unreal.md, Material setup). */
    UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "Neural Texture", meta = (MultiLine = true))
    FString MaterialCustomNodeCode;

    /** Decode every mip into DecodedTextures when the asset loads (CPU, via the ngsdk loader). */
    UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "Neural Texture")
    bool bDecodeOnLoad = false;

    /** Textures made by DecodeOnLoad / UNeuralGraphicsLibrary::DecodeToTextures (transient). */
    UPROPERTY(Transient, VisibleInstanceOnly, BlueprintReadOnly, Category = "Neural Texture")
    TArray<TObjectPtr<UTexture2D>> DecodedTextures;

    /** manifest.json, the grid DDS files and the decoder npz as imported. */
    UPROPERTY()
    TArray<FNeuralBundleFile> BundleFiles;

#if WITH_EDITORONLY_DATA
    UPROPERTY(VisibleAnywhere, Instanced, Category = "Import Settings")
    TObjectPtr<UAssetImportData> AssetImportData;
#endif

    /** Number of channels the decoder outputs. */
    int32 NumChannels() const { return Channels.Num(); }

    virtual void PostLoad() override;
#if WITH_EDITORONLY_DATA
    virtual void PostInitProperties() override;
    virtual void GetAssetRegistryTags(TArray<FAssetRegistryTag>& OutTags) const override;
#endif
};
