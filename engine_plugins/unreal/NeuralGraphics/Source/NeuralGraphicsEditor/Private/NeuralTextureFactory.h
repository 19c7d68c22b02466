// Import and reimport of ngsdk .ngasset bundles. The import entry point is the bundle's
// manifest.json (a bundle is a folder); other .json files are left to other factories.
#pragma once

#include "CoreMinimal.h"
#include "EditorReimportHandler.h"
#include "Factories/Factory.h"

#include "NeuralTextureFactory.generated.h"

UCLASS()
class UNeuralTextureFactory : public UFactory, public FReimportHandler
{
    GENERATED_BODY()

public:
    UNeuralTextureFactory();

    // UFactory
    virtual bool FactoryCanImport(const FString& Filename) override;
    virtual UObject* FactoryCreateFile(UClass* InClass, UObject* InParent, FName InName, EObjectFlags Flags,
                                       const FString& Filename, const TCHAR* Parms, FFeedbackContext* Warn,
                                       bool& bOutOperationCanceled) override;

    // FReimportHandler
    virtual bool CanReimport(UObject* Obj, TArray<FString>& OutFilenames) override;
    virtual void SetReimportPaths(UObject* Obj, const TArray<FString>& NewReimportPaths) override;
    virtual EReimportResult::Type Reimport(UObject* Obj) override;
    virtual int32 GetPriority() const override;
};
