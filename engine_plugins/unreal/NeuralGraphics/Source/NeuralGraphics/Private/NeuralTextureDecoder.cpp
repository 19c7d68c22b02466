#include "NeuralTextureDecoder.h"

#include "NeuralTexture.h"

THIRD_PARTY_INCLUDES_START
#include "ngsdk/bundle.h"
#include "ngsdk/decode.h"
#include "ngsdk/shader_params.h"
THIRD_PARTY_INCLUDES_END

namespace
{
bool LoadFromFiles(const TMap<FString, TArray<uint8>>& Files, const FString& Label, ngsdk::NeuralTexture& Out,
                   FString& OutError)
{
    std::map<std::string, std::vector<uint8_t>> Map;
    for (const TPair<FString, TArray<uint8>>& File : Files)
    {
        Map[TCHAR_TO_UTF8(*File.Key)] = std::vector<uint8_t>(File.Value.GetData(), File.Value.GetData() + File.Value.Num());
    }
    // Checksums were verified at import; sizes, headers and shapes are always re-checked.
    ngsdk::LoadOptions Options;
    Options.verify_checksums = false;
    const ngsdk::Status Status = ngsdk::load_neural_texture_from_memory(TCHAR_TO_UTF8(*Label), Map, Out, Options);
    if (!Status)
    {
        OutError = UTF8_TO_TCHAR(Status.what().c_str());
        return false;
    }
    return true;
}
}  // namespace

bool FNeuralTextureDecoder::DecodeMip(const UNeuralTexture& Asset, int32 Mip, FNeuralDecodedMip& Out, FString& OutError)
{
    TMap<FString, TArray<uint8>> Files;
    for (const FNeuralBundleFile& File : Asset.BundleFiles)
    {
        Files.Add(File.Name, File.Bytes);
    }
    ngsdk::NeuralTexture Texture;
    if (!LoadFromFiles(Files, Asset.GetPathName(), Texture, OutError))
    {
        return false;
    }
    if (Mip < 0 || uint32(Mip) >= Texture.mip_levels)
    {
        OutError = FString::Printf(TEXT("%s: mip %d out of range (asset has %u)"), *Asset.GetPathName(), Mip, Texture.mip_levels);
        return false;
    }
    const ngsdk::DecodeMode Mode = Texture.decode_mode == ngsdk::DecodeMode::Float ? ngsdk::DecodeMode::Float
                                                                                   : ngsdk::DecodeMode::Exact;
    ngsdk::DecodedMip Decoded;
    const ngsdk::Status Status = ngsdk::decode_mip(Texture, uint32(Mip), Mode, Decoded);
    if (!Status)
    {
        OutError = UTF8_TO_TCHAR(Status.what().c_str());
        return false;
    }
    Out.Width = int32(Decoded.width);
    Out.Height = int32(Decoded.height);
    Out.Channels = int32(Decoded.channels);
    Out.bBytes = Mode == ngsdk::DecodeMode::Exact;
    if (Out.bBytes)
    {
        Out.Bytes = TArray<uint8>(Decoded.bytes.data(), int32(Decoded.bytes.size()));
    }
    else
    {
        Out.Floats = TArray<float>(Decoded.values.data(), int32(Decoded.values.size()));
    }
    return true;
}

void FNeuralTextureDecoder::PackBGRA8(const FNeuralDecodedMip& Mip, int32 FirstChannel, TArray<uint8>& Out)
{
    const int32 Texels = Mip.Width * Mip.Height;
    Out.SetNumZeroed(Texels * 4);
    for (int32 T = 0; T < Texels; ++T)
    {
        uint8 RGBA[4] = {0, 0, 0, 255};
        for (int32 K = 0; K < 4; ++K)
        {
            const int32 C = FirstChannel + K;
            if (C < Mip.Channels)
            {
                RGBA[K] = Mip.bBytes ? Mip.Bytes[T * Mip.Channels + C]
                                     : uint8(FMath::Clamp(FMath::RoundToInt(Mip.Floats[T * Mip.Channels + C] * 255.0f), 0, 255));
            }
        }
        Out[T * 4 + 0] = RGBA[2];
        Out[T * 4 + 1] = RGBA[1];
        Out[T * 4 + 2] = RGBA[0];
        Out[T * 4 + 3] = RGBA[3];
    }
}

void FNeuralTextureDecoder::PackRGBA32F(const FNeuralDecodedMip& Mip, int32 FirstChannel, TArray<FLinearColor>& Out)
{
    const int32 Texels = Mip.Width * Mip.Height;
    Out.SetNum(Texels);
    for (int32 T = 0; T < Texels; ++T)
    {
        float V[4] = {0.0f, 0.0f, 0.0f, 1.0f};
        for (int32 K = 0; K < 4; ++K)
        {
            const int32 C = FirstChannel + K;
            if (C < Mip.Channels)
            {
                V[K] = Mip.bBytes ? Mip.Bytes[T * Mip.Channels + C] / 255.0f : Mip.Floats[T * Mip.Channels + C];
            }
        }
        Out[T] = FLinearColor(V[0], V[1], V[2], V[3]);
    }
}

bool FNeuralTextureDecoder::BuildShaderParams(const TMap<FString, TArray<uint8>>& Files, const FString& Label,
                                              TArray<int32>& Out, FString& OutError)
{
    ngsdk::NeuralTexture Texture;
    if (!LoadFromFiles(Files, Label, Texture, OutError))
    {
        return false;
    }
    Out.Reset();
    if (!Texture.quantized)
    {
        return true;  // float bundles decode on the CPU only
    }
    std::vector<int32_t> Params;
    const ngsdk::Status Status = ngsdk::shader_params(Texture, Texture.decode_mode, Params);
    if (!Status)
    {
        OutError = UTF8_TO_TCHAR(Status.what().c_str());
        return false;
    }
    Out = TArray<int32>(Params.data(), int32(Params.size()));
    return true;
}
