#include "NeuralTextureImport.h"

#include "AssetRegistry/AssetRegistryModule.h"
#include "Engine/Texture2D.h"
#include "Engine/Texture2DArray.h"
#include "Misc/FileHelper.h"
#include "Misc/Paths.h"
#include "NeuralTexture.h"
#include "NeuralTextureDecoder.h"
#include "UObject/Package.h"

THIRD_PARTY_INCLUDES_START
#include "ngsdk/bundle.h"
THIRD_PARTY_INCLUDES_END

namespace NeuralTextureImport
{
void ApplyExactSettings(UTexture2DArray& Texture, bool bWrap, bool bHardwareFiltered)
{
    // Latent codes are data: no sRGB, no compression (VectorDisplacementmap is uncompressed BGRA8),
    // the authored mips as they are, no streaming, no LOD bias.
    Texture.SRGB = false;
    Texture.CompressionSettings = TC_VectorDisplacementmap;
    Texture.CompressionNone = true;
#if WITH_EDITORONLY_DATA
    Texture.MipGenSettings = TMGS_LeaveExistingMips;
#endif
    // exact mode reads texels with Load (the filter is unused); hardware mode samples bilinearly.
    Texture.Filter = bHardwareFiltered ? TF_Bilinear : TF_Nearest;
    Texture.AddressX = bWrap ? TA_Wrap : TA_Clamp;
    Texture.AddressY = bWrap ? TA_Wrap : TA_Clamp;
    Texture.AddressZ = TA_Clamp;
    Texture.NeverStream = true;
    Texture.LODBias = 0;
    Texture.NumCinematicMipLevels = 0;
}

namespace
{
UTexture2DArray* MakeGridTexture(UNeuralTexture& Asset, const ngsdk::Grid& Grid, bool bWrap, bool bHardware)
{
    // The grid lives in its own package beside the neural texture: <Package>_<grid name>.
    const FString PackageName = FPaths::GetPath(Asset.GetOutermost()->GetName()) / (Asset.GetName() + TEXT("_") +
                                                                                    UTF8_TO_TCHAR(Grid.name.c_str()));
    UPackage* Package = CreatePackage(*PackageName);
    const FName ObjectName(*FPaths::GetBaseFilename(PackageName));
    UTexture2DArray* Texture = FindObject<UTexture2DArray>(Package, *ObjectName.ToString());
    if (!Texture)
    {
        Texture = NewObject<UTexture2DArray>(Package, ObjectName, RF_Public | RF_Standalone | RF_Transactional);
        FAssetRegistryModule::AssetCreated(Texture);
    }
    // FTextureSource wants mip-major data (every slice of mip 0, then mip 1, ...), BGRA byte order;
    // the loader holds each level as (slices, h, w, RGBA).
    TArray<uint8> Data;
    for (const std::vector<uint8_t>& Level : Grid.texels)
    {
        const int32 Start = Data.Num();
        Data.Append(Level.data(), int32(Level.size()));
        for (int32 I = Start; I + 3 < Data.Num(); I += 4)
        {
            Swap(Data[I], Data[I + 2]);
        }
    }
#if WITH_EDITORONLY_DATA
    Texture->Source.Init(int32(Grid.width), int32(Grid.height), int32(Grid.array_size), int32(Grid.levels), TSF_BGRA8,
                         Data.GetData());
#endif
    ApplyExactSettings(*Texture, bWrap, bHardware);
    Texture->PostEditChange();
    Texture->MarkPackageDirty();
    return Texture;
}
}  // namespace

// The material decode's parameter texture (NeuralTextureMaterial.ush): the int32 blob (it carries the
// sizes and every mip's taps), one little-endian word per texel (R = lowest byte), 256 per row.
UTexture2D* MakeParamsTexture(UNeuralTexture& Asset, const TArray<int32>& Blob)
{
    TArray<int32> Words = Blob;
    const int32 Rows = (Words.Num() + 255) / 256;
    Words.SetNumZeroed(Rows * 256);
    TArray<uint8> Texels;
    Texels.SetNumUninitialized(Words.Num() * 4);
    for (int32 I = 0; I < Words.Num(); ++I)
    {
        const uint32 W = uint32(Words[I]);
        // TSF_BGRA8 memory order B, G, R, A for the logical (R, G, B, A) = (byte0, byte1, byte2, byte3).
        Texels[I * 4 + 0] = uint8(W >> 16);
        Texels[I * 4 + 1] = uint8(W >> 8);
        Texels[I * 4 + 2] = uint8(W);
        Texels[I * 4 + 3] = uint8(W >> 24);
    }
    const FString PackageName = FPaths::GetPath(Asset.GetOutermost()->GetName()) / (Asset.GetName() + TEXT("_params"));
    UPackage* Package = CreatePackage(*PackageName);
    const FString ObjectName = FPaths::GetBaseFilename(PackageName);
    UTexture2D* Texture = FindObject<UTexture2D>(Package, *ObjectName);
    if (!Texture)
    {
        Texture = NewObject<UTexture2D>(Package, FName(*ObjectName), RF_Public | RF_Standalone | RF_Transactional);
        FAssetRegistryModule::AssetCreated(Texture);
    }
#if WITH_EDITORONLY_DATA
    Texture->Source.Init(256, Rows, 1, 1, TSF_BGRA8, Texels.GetData());
    Texture->MipGenSettings = TMGS_NoMipmaps;
#endif
    Texture->SRGB = false;
    Texture->CompressionSettings = TC_VectorDisplacementmap;
    Texture->CompressionNone = true;
    Texture->Filter = TF_Nearest;
    Texture->AddressX = TA_Clamp;
    Texture->AddressY = TA_Clamp;
    Texture->NeverStream = true;
    Texture->LODBias = 0;
    Texture->PostEditChange();
    Texture->MarkPackageDirty();
    return Texture;
}

FString CustomNodeCode(int32 Grids)
{
    FString Bind = FString::Printf(TEXT("NTD_MaterialBind%d(Params"), Grids);
    for (int32 G = 0; G < Grids; ++G)
    {
        Bind += FString::Printf(TEXT(", Grid%d"), G);
    }
    Bind += TEXT(", Grid0Sampler);\n");
    return Bind + TEXT("NTD_MaterialDecode(UV, Mip);\n"
                       "Out1 = NTD_MaterialChannels(4);\n"
                       "Out2 = NTD_MaterialChannels(8);\n"
                       "Out3 = NTD_MaterialChannels(12);\n"
                       "return NTD_MaterialChannels(0);\n");
}
}  // namespace

namespace
{
bool MaterialDecodeSupported(const ngsdk::NeuralTexture& Bundle, FString& Why)
{
    if (!Bundle.quantized)
    {
        Why = TEXT("float bundles decode on the CPU only");
        return false;
    }
    // Taps and LOD inputs travel in the parameter blob, so every latent layout decodes in a material.
    if (Bundle.grids.size() > 4 || Bundle.outputs() > 16)
    {
        Why = TEXT("the material decode binds at most 4 grids and returns at most 16 channels");
        return false;
    }
    return true;
}
}  // namespace

bool Fill(UNeuralTexture& Asset, const FString& BundleDir, FString& OutError)
{
    ngsdk::NeuralTexture Bundle;
    const ngsdk::Status Status = ngsdk::load_neural_texture(TCHAR_TO_UTF8(*BundleDir), Bundle);
    if (!Status)
    {
        OutError = UTF8_TO_TCHAR(Status.what().c_str());
        return false;
    }
    // Keep the bytes the loader just verified: manifest, grids and decoder (graph exports stay out).
    TMap<FString, TArray<uint8>> Files;
    TArray<FString> Names = {TEXT("manifest.json")};
    for (const ngsdk::Grid& Grid : Bundle.grids)
    {
        Names.Add(UTF8_TO_TCHAR(Grid.file.c_str()));
    }
    Names.Add(UTF8_TO_TCHAR(Bundle.manifest.find("decoder")->find("file")->as_string().c_str()));
    Asset.BundleFiles.Reset();
    for (const FString& Name : Names)
    {
        FNeuralBundleFile& File = Asset.BundleFiles.AddDefaulted_GetRef();
        File.Name = Name;
        if (!FFileHelper::LoadFileToArray(File.Bytes, *(BundleDir / Name)))
        {
            OutError = FString::Printf(TEXT("%s: cannot read file"), *(BundleDir / Name));
            return false;
        }
        Files.Add(Name, File.Bytes);
    }
    if (!FNeuralTextureDecoder::BuildShaderParams(Files, BundleDir, Asset.ShaderParams, OutError))
    {
        return false;
    }
    Asset.BundleName = UTF8_TO_TCHAR(Bundle.name.c_str());
    Asset.FormatVersion = UTF8_TO_TCHAR(Bundle.format_version.c_str());
    Asset.Width = int32(Bundle.width);
    Asset.Height = int32(Bundle.height);
    Asset.MipLevels = int32(Bundle.mip_levels);
    Asset.bWrap = Bundle.address == ngsdk::AddressMode::Wrap;
    Asset.DecodeMode = Bundle.decode_mode == ngsdk::DecodeMode::Exact      ? ENeuralDecodeMode::Exact
                       : Bundle.decode_mode == ngsdk::DecodeMode::Hardware ? ENeuralDecodeMode::Hardware
                                                                            : ENeuralDecodeMode::Float;
    Asset.Channels.Reset();
    for (const ngsdk::Channel& C : Bundle.channels)
    {
        FNeuralTextureChannel& Out = Asset.Channels.AddDefaulted_GetRef();
        Out.Name = UTF8_TO_TCHAR(C.name.c_str());
        Out.Semantic = UTF8_TO_TCHAR(C.semantic.c_str());
        Out.Component = UTF8_TO_TCHAR(C.component.c_str());
        Out.ColourSpace = UTF8_TO_TCHAR(C.colour_space.c_str());
    }
    Asset.LatentTaps.Reset();
    Asset.TapsPerMip = int32(Bundle.taps.front().size());
    for (const std::vector<ngsdk::Tap>& Taps : Bundle.taps)
    {
        for (const ngsdk::Tap& Tap : Taps)
        {
            Asset.LatentTaps.Add(FIntPoint(int32(Tap.grid), int32(Tap.level)));
        }
    }
    Asset.LodInputs = TArray<int32>(Bundle.lod_inputs.data(), int32(Bundle.lod_inputs.size()));
    Asset.LatentGrids.Reset();
    const bool bHardware = Bundle.decode_mode == ngsdk::DecodeMode::Hardware;
    for (const ngsdk::Grid& Grid : Bundle.grids)
    {
        Asset.LatentGrids.Add(MakeGridTexture(Asset, Grid, Asset.bWrap, bHardware));
    }
    FString Why;
    if (MaterialDecodeSupported(Bundle, Why))
    {
        Asset.ParamsTexture = MakeParamsTexture(Asset, Asset.ShaderParams);
        Asset.MaterialCustomNodeCode = CustomNodeCode(int32(Bundle.grids.size()));
    }
    else
    {
        Asset.ParamsTexture = nullptr;
        Asset.MaterialCustomNodeCode = FString::Printf(TEXT("// no material decode for this bundle: %s"), *Why);
        UE_LOG(LogTemp, Warning, TEXT("ngsdk import %s: %s (CPU decode only)"), *BundleDir, *Why);
    }
    return true;
}
}  // namespace NeuralTextureImport
