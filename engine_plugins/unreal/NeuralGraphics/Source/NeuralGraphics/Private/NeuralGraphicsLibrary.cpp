#include "NeuralGraphicsLibrary.h"

#include "Engine/Texture2D.h"
#include "Engine/TextureRenderTarget2D.h"
#include "NeuralTexture.h"
#include "NeuralTextureDecoder.h"
#include "RenderingThread.h"
#include "RHICommandList.h"
#include "TextureResource.h"

namespace
{
// Create a transient texture holding every decoded mip of channels [First, First + 4).
UTexture2D* MakeTexture(UNeuralTexture& Asset, const TArray<FNeuralDecodedMip>& Mips, int32 First)
{
    const bool bBytes = Mips[0].bBytes;
    const EPixelFormat Format = bBytes ? PF_B8G8R8A8 : PF_A32B32G32R32F;
    const FName Name = MakeUniqueObjectName(GetTransientPackage(), UTexture2D::StaticClass(),
                                            FName(*FString::Printf(TEXT("%s_Decoded%d"), *Asset.GetName(), First / 4)));
    UTexture2D* Texture = UTexture2D::CreateTransient(Mips[0].Width, Mips[0].Height, Format, Name);
    if (!Texture)
    {
        return nullptr;
    }
    bool bAllSrgb = bBytes;
    for (int32 K = 0; K < 4 && First + K < Asset.Channels.Num(); ++K)
    {
        bAllSrgb = bAllSrgb && Asset.Channels[First + K].ColourSpace == TEXT("srgb");
    }
    // Exact bytes are stored in each channel's colour space; float values are linear.
    Texture->SRGB = bAllSrgb;
    Texture->Filter = TF_Bilinear;
    Texture->AddressX = Asset.bWrap ? TA_Wrap : TA_Clamp;
    Texture->AddressY = Asset.bWrap ? TA_Wrap : TA_Clamp;
    Texture->NeverStream = true;
    FTexturePlatformData* Platform = Texture->GetPlatformData();
    for (int32 M = 0; M < Mips.Num(); ++M)
    {
        if (M > 0)
        {
            Platform->Mips.Add(new FTexture2DMipMap(Mips[M].Width, Mips[M].Height, 1));
        }
        FTexture2DMipMap& Mip = Platform->Mips[M];
        if (bBytes)
        {
            TArray<uint8> Packed;
            FNeuralTextureDecoder::PackBGRA8(Mips[M], First, Packed);
            void* Dst = Mip.BulkData.Lock(LOCK_READ_WRITE);
            Dst = Mip.BulkData.Realloc(Packed.Num());
            FMemory::Memcpy(Dst, Packed.GetData(), Packed.Num());
            Mip.BulkData.Unlock();
        }
        else
        {
            TArray<FLinearColor> Packed;
            FNeuralTextureDecoder::PackRGBA32F(Mips[M], First, Packed);
            const int64 Bytes = int64(Packed.Num()) * sizeof(FLinearColor);
            void* Dst = Mip.BulkData.Lock(LOCK_READ_WRITE);
            Dst = Mip.BulkData.Realloc(Bytes);
            FMemory::Memcpy(Dst, Packed.GetData(), Bytes);
            Mip.BulkData.Unlock();
        }
    }
    Texture->UpdateResource();
    return Texture;
}
}  // namespace

TArray<UTexture2D*> UNeuralGraphicsLibrary::DecodeToTextures(UNeuralTexture* Texture, FString& Error)
{
    TArray<UTexture2D*> Result;
    if (!Texture)
    {
        Error = TEXT("DecodeToTextures: no neural texture given");
        return Result;
    }
    TArray<FNeuralDecodedMip> Mips;
    Mips.SetNum(Texture->MipLevels);
    for (int32 M = 0; M < Texture->MipLevels; ++M)
    {
        if (!FNeuralTextureDecoder::DecodeMip(*Texture, M, Mips[M], Error))
        {
            return Result;
        }
    }
    if (Mips.Num() == 0)
    {
        Error = FString::Printf(TEXT("%s has no mips"), *Texture->GetPathName());
        return Result;
    }
    Texture->DecodedTextures.Reset();
    for (int32 First = 0; First < Mips[0].Channels; First += 4)
    {
        if (UTexture2D* Made = MakeTexture(*Texture, Mips, First))
        {
            Result.Add(Made);
            Texture->DecodedTextures.Add(Made);
        }
    }
    return Result;
}

bool UNeuralGraphicsLibrary::DecodeToRenderTarget(UNeuralTexture* Texture, UTextureRenderTarget2D* Target, int32 Mip,
                                                  int32 FirstChannel, FString& Error)
{
    if (!Texture || !Target)
    {
        Error = TEXT("DecodeToRenderTarget: needs a neural texture and a render target");
        return false;
    }
    FNeuralDecodedMip Decoded;
    if (!FNeuralTextureDecoder::DecodeMip(*Texture, Mip, Decoded, Error))
    {
        return false;
    }
    if (Target->SizeX != Decoded.Width || Target->SizeY != Decoded.Height)
    {
        Error = FString::Printf(TEXT("render target is %dx%d, mip %d is %dx%d"), Target->SizeX, Target->SizeY, Mip,
                                Decoded.Width, Decoded.Height);
        return false;
    }
    TArray<uint8> Data;
    uint32 Pitch = 0;
    const ETextureRenderTargetFormat Format = Target->RenderTargetFormat;
    if (Format == RTF_RGBA8)
    {
        FNeuralTextureDecoder::PackBGRA8(Decoded, FirstChannel, Data);
        Pitch = uint32(Decoded.Width) * 4;
    }
    else if (Format == RTF_RGBA32f)
    {
        TArray<FLinearColor> Colors;
        FNeuralTextureDecoder::PackRGBA32F(Decoded, FirstChannel, Colors);
        Data.Append(reinterpret_cast<const uint8*>(Colors.GetData()), Colors.Num() * sizeof(FLinearColor));
        Pitch = uint32(Decoded.Width) * sizeof(FLinearColor);
    }
    else if (Format == RTF_RGBA16f)
    {
        TArray<FLinearColor> Colors;
        FNeuralTextureDecoder::PackRGBA32F(Decoded, FirstChannel, Colors);
        Data.SetNumUninitialized(Colors.Num() * sizeof(FFloat16Color));
        FFloat16Color* Half = reinterpret_cast<FFloat16Color*>(Data.GetData());
        for (int32 I = 0; I < Colors.Num(); ++I)
        {
            Half[I] = FFloat16Color(Colors[I]);
        }
        Pitch = uint32(Decoded.Width) * sizeof(FFloat16Color);
    }
    else
    {
        Error = TEXT("render target format must be RTF_RGBA8, RTF_RGBA16f or RTF_RGBA32f");
        return false;
    }
    FTextureRenderTargetResource* Resource = Target->GameThread_GetRenderTargetResource();
    if (!Resource)
    {
        Error = TEXT("render target has no resource");
        return false;
    }
    const int32 W = Decoded.Width, H = Decoded.Height;
    ENQUEUE_RENDER_COMMAND(NeuralGraphicsUploadDecoded)(
        [Resource, Data = MoveTemp(Data), Pitch, W, H](FRHICommandListImmediate& RHICmdList)
        {
            const FUpdateTextureRegion2D Region(0, 0, 0, 0, uint32(W), uint32(H));
            RHICmdList.UpdateTexture2D(Resource->GetRenderTargetTexture(), 0, Region, Pitch, Data.GetData());
        });
    return true;
}
